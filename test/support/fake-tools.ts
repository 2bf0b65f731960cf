// A runner's world without Docker or a cluster: stand-in minikube, helm, kubectl and docker that
// record their argv and answer like the real programs, served by a local download server with
// the upstream layouts so the action installs them as it would the real ones.
import { join } from 'node:path'
import { pathWith, standIn, type Rule, type StandIn } from './stand-in.js'
import { startToolServer, type ToolServer } from './tool-server.js'

export const VERSIONS = { minikube: 'v1.39.0', helm: 'v4.3.1', kubectl: 'v1.37.0' }

export const MINIKUBE_OK: Rule[] = [
  {
    match: ['start'],
    stdout: [
      '😄  minikube v1.39.0 on Ubuntu 24.04',
      '✨  Using the docker driver based on user configuration',
      '👍  Starting "minikube" primary control-plane node in "minikube" cluster',
      '🔥  Creating docker container (CPUs=2, Memory=4096MB) ...',
      '🐳  Preparing Kubernetes v1.37.0 on Docker 28.4.0 ...',
      '🏄  Done! kubectl is now configured to use "minikube" cluster and "default" namespace by default',
      ''
    ].join('\n')
  },
  { match: ['ip'], stdout: '192.168.49.2\n' },
  {
    match: ['profile', 'list'],
    stdout: JSON.stringify({
      invalid: [],
      valid: [
        {
          Name: 'minikube',
          Status: 'OK',
          Config: { KubernetesConfig: { KubernetesVersion: 'v1.37.0' } }
        }
      ]
    })
  },
  {
    match: ['delete'],
    stdout:
      '🔥  Deleting "minikube" in docker ...\n💀  Removed all traces of the "minikube" cluster.\n'
  },
  { match: ['image', 'ls'], stdout: '[]\n' },
  { match: ['image', 'load'], stdout: '' },
  { match: ['addons', 'enable'], stdout: '🌟  The addon is enabled\n' },
  {
    match: ['docker-env'],
    stdout:
      'DOCKER_TLS_VERIFY=1\nDOCKER_HOST=tcp://192.168.49.2:2376\nDOCKER_CERT_PATH=/home/runner/.minikube/certs\nMINIKUBE_ACTIVE_DOCKERD=minikube\n'
  },
  { match: ['logs'], stdout: 'no problems found\n' }
]

/** `minikube start` on a profile left from an earlier job (a self-hosted runner). */
export const MINIKUBE_RESTARTED: Rule = {
  match: ['start'],
  stdout:
    '😄  minikube v1.39.0 on Ubuntu 24.04\n✨  Using the docker driver based on existing profile\n🏃  Updating the running docker "minikube" container ...\n🏄  Done! kubectl is now configured to use "minikube" cluster\n'
}

export const GUEST_PROVISION =
  '❌  Exiting due to GUEST_PROVISION: error provisioning guest: Failed to start host: creating host: create: creating: setting up container node: preparing volume for minikube container: docker run --rm --name minikube-preload-sidecar: exit status 125\n'

export const KUBECTL_OK: Rule[] = [
  {
    match: ['version'],
    stdout: JSON.stringify({
      clientVersion: { gitVersion: 'v1.37.0' },
      serverVersion: { gitVersion: 'v1.37.0', major: '1', minor: '37' }
    })
  },
  // The namespace exists, made by someone else: used as it is, never labelled.
  {
    match: ['get', 'namespace'],
    stdout: JSON.stringify({
      metadata: { name: 'preview', labels: {} },
      status: { phase: 'Active' }
    })
  },
  {
    match: ['get', 'nodes'],
    stdout: JSON.stringify({
      items: [
        {
          metadata: { name: 'minikube' },
          status: { conditions: [{ type: 'Ready', status: 'True' }] }
        }
      ]
    })
  }
]

export const HELM_OK: Rule[] = [{ match: ['version'], stdout: 'v4.3.1+g8f5a7b2\n' }]

export const DOCKER_OK: Rule[] = [
  {
    match: ['build'],
    stdout: '#1 [internal] load build definition from Dockerfile\n#9 DONE 0.1s\n'
  },
  {
    match: ['image', 'inspect'],
    stdout:
      JSON.stringify({
        Id: 'sha256:4c7d1e0f5a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d',
        Size: 155_000_000
      }) + '\n'
  }
]

export interface FakeTools {
  server: ToolServer
  minikube: StandIn
  helm: StandIn
  kubectl: StandIn
  docker: StandIn
  /** PATH for the action: docker (never downloaded) first. */
  path: string
  inputs: Record<string, string>
  close(): Promise<void>
}

export interface FakeToolRules {
  minikube?: Rule[]
  helm?: Rule[]
  kubectl?: Rule[]
  docker?: Rule[]
}

/** Stand-ins in `dir`, served by a fresh download server; rules given replace the defaults' first matches. */
export async function fakeTools(
  dir: string,
  rules: FakeToolRules = {},
  /** More kubectl versions served besides the default one. */
  kubectlVersions: string[] = [],
  /** `recordEnv: 'all'`: each call records the whole environment the program got. */
  options: { recordEnv?: string[] | 'all' } = {}
): Promise<FakeTools> {
  const recordEnv = options.recordEnv ?? ['KUBECONFIG', 'DOCKER_HOST']
  const served = join(dir, 'served')
  const minikube = standIn(served, 'minikube', [...(rules.minikube ?? []), ...MINIKUBE_OK], {
    recordEnv
  })
  const helm = standIn(served, 'helm', [...(rules.helm ?? []), ...HELM_OK], { recordEnv })
  const kubectl = standIn(served, 'kubectl', [...(rules.kubectl ?? []), ...KUBECTL_OK], {
    recordEnv
  })
  const docker = standIn(join(dir, 'bin'), 'docker', [...(rules.docker ?? []), ...DOCKER_OK], {
    recordEnv
  })
  const server = await startToolServer({
    tools: {
      minikube: { [VERSIONS.minikube]: minikube.path },
      helm: { [VERSIONS.helm]: helm.path },
      kubectl: Object.fromEntries(
        [VERSIONS.kubectl, ...kubectlVersions].map((v) => [v, kubectl.path])
      )
    },
    latest: { kubectl: VERSIONS.kubectl }
  })
  return {
    server,
    minikube,
    helm,
    kubectl,
    docker,
    path: pathWith(docker.dir),
    inputs: {
      // A short window: the window itself is the subject of test/integration/verify.test.ts.
      'stable-for': '1s',
      'minikube-base-url': server.urls.minikube,
      'helm-base-url': server.urls.helm,
      'kubectl-base-url': server.urls.kubectl
    },
    close: () => server.close()
  }
}
