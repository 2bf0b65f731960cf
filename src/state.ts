// What main hands to the post step, which runs in a new process: one named setter and getter
// per fact, each saved the moment it is known so that a killed main still leaves what post needs.

import * as core from '@actions/core'

/** The keys, as the runner stores them (`STATE_<key>` in post's environment). */
enum Key {
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
  RepositoriesDir = 'repositoriesDir',
  /** The registry host docker logged in to, logged out of in post. */
  RegistryHost = 'registryHost'
}

function save(key: Key, value: string | boolean | undefined): void {
  if (value !== undefined) core.saveState(key, String(value))
}

function load(key: Key): string {
  return core.getState(key)
}

type Text = string | undefined

export const state = {
  /** Whether this process is the post step (main marks it before anything else). */
  isPost: (): boolean => load(Key.IsPost) === 'true',
  markPost: (): void => save(Key.IsPost, true),

  cluster: (): string => load(Key.Cluster),
  saveCluster: (v: Text): void => save(Key.Cluster, v),
  cleanup: (): string => load(Key.Cleanup),
  saveCleanup: (v: Text): void => save(Key.Cleanup, v),
  release: (): string => load(Key.Release),
  saveRelease: (v: Text): void => save(Key.Release, v),
  namespace: (): string => load(Key.Namespace),
  saveNamespace: (v: Text): void => save(Key.Namespace, v),
  status: (): string => load(Key.Status),
  saveStatus: (v: Text): void => save(Key.Status, v),

  minikubePath: (): string => load(Key.MinikubePath),
  saveMinikubePath: (v: Text): void => save(Key.MinikubePath, v),
  helmPath: (): string => load(Key.HelmPath),
  saveHelmPath: (v: Text): void => save(Key.HelmPath, v),
  kubectlPath: (): string => load(Key.KubectlPath),
  saveKubectlPath: (v: Text): void => save(Key.KubectlPath, v),
  dockerPath: (): string => load(Key.DockerPath),
  saveDockerPath: (v: Text): void => save(Key.DockerPath, v),

  /** Whether this run started the minikube cluster (so post may delete it). */
  clusterStarted: (): boolean => load(Key.ClusterStarted) === 'true',
  saveClusterStarted: (): void => save(Key.ClusterStarted, true),
  /** Whether the release was deployed (so post may uninstall it). */
  deployed: (): boolean => load(Key.Deployed) === 'true',
  saveDeployed: (): void => save(Key.Deployed, true),

  cacheKey: (): string => load(Key.CacheKey),
  saveCacheKey: (v: Text): void => save(Key.CacheKey, v),
  /** The folders of the minikube cache, all that restore asked for. */
  cachePaths: (): string[] =>
    load(Key.CachePath)
      .split('\n')
      .filter((p) => p !== ''),
  saveCachePaths: (paths: readonly string[]): void => save(Key.CachePath, paths.join('\n')),
  cacheHit: (): boolean => load(Key.CacheHit) === 'true',
  saveCacheHit: (hit: boolean): void => save(Key.CacheHit, hit),

  builder: (): string => load(Key.Builder),
  saveBuilder: (v: Text): void => save(Key.Builder, v),
  dockerContext: (): string => load(Key.DockerContext),
  saveDockerContext: (v: Text): void => save(Key.DockerContext, v),

  secretsDir: (): string => load(Key.SecretsDir),
  saveSecretsDir: (v: Text): void => save(Key.SecretsDir, v),
  repositoriesDir: (): string => load(Key.RepositoriesDir),
  saveRepositoriesDir: (v: Text): void => save(Key.RepositoriesDir, v),

  registryHost: (): string => load(Key.RegistryHost),
  saveRegistryHost: (v: Text): void => save(Key.RegistryHost, v)
}
