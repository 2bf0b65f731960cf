{{/* The pod and container settings of the reference chart: non-root, read-only, no capabilities. */}}
{{- define "states.metadata" -}}
metadata:
  name: {{ .name }}
  labels:
    app.kubernetes.io/name: {{ .name }}
    app.kubernetes.io/instance: {{ .ctx.Release.Name }}
spec:
  replicas: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: {{ .name }}
      app.kubernetes.io/instance: {{ .ctx.Release.Name }}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {{ .name }}
        app.kubernetes.io/instance: {{ .ctx.Release.Name }}
{{- end }}

{{- define "states.pod" -}}
securityContext:
  runAsNonRoot: true
  runAsUser: 65534
  runAsGroup: 65534
  seccompProfile:
    type: RuntimeDefault
automountServiceAccountToken: false
terminationGracePeriodSeconds: 2
{{- end }}

{{- define "states.image" -}}
{{ printf "%s:%s" .Values.image.repository .Values.image.tag }}
{{- end }}

{{- define "states.container" -}}
imagePullPolicy: Never
securityContext:
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  capabilities:
    drop: ["ALL"]
resources:
  requests:
    cpu: 10m
    memory: 16Mi
  limits:
    cpu: 200m
    memory: 64Mi
{{- end }}

{{- define "states.ready" -}}
ports:
  - containerPort: 8080
readinessProbe:
  httpGet:
    path: /
    port: 8080
  periodSeconds: 1
  failureThreshold: 1
volumeMounts:
  - name: tmp
    mountPath: /tmp
{{- end }}
