import * as core from '@actions/core'

/** Everything main hands to the post step, which runs in a new process. */
export enum State {
  IsPost = 'isPost',
  Cluster = 'cluster',
  MinikubePath = 'minikubePath',
  HelmPath = 'helmPath',
  KubectlPath = 'kubectlPath',
  ClusterStarted = 'clusterStarted',
  Release = 'release',
  Namespace = 'namespace',
  Deployed = 'deployed',
  Cleanup = 'cleanup',
  Status = 'status',
  CacheKey = 'cacheKey',
  CacheHit = 'cacheHit',
  /** Newline-separated folders of the minikube cache. */
  CachePath = 'cachePath',
  DockerPath = 'dockerPath',
  /** A buildx builder this run created, removed in post. */
  Builder = 'builder',
  /** A docker context created for that builder (the cluster's Docker, with docker-env). */
  DockerContext = 'dockerContext',
  /** The folder of the secret values file, saved before the file is written. */
  SecretsDir = 'secretsDir',
  /** The run's own helm repository config (it may hold a copied password), saved likewise. */
  RepositoriesDir = 'repositoriesDir'
}

export function save(key: State, value: string | boolean | undefined): void {
  if (value !== undefined) core.saveState(key, String(value))
}

export function load(key: State): string {
  return core.getState(key)
}
