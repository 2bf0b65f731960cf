{{/*
The chart name, or nameOverride.
*/}}
{{- define "todo-chatbot.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The release's base name: fullnameOverride; else the release name when it already
contains the chart name; else "<release>-<chart>". Cut to 52 characters so that
"-postgresql" still fits in a 63-character name.
*/}}
{{- define "todo-chatbot.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "todo-chatbot.backend.fullname" -}}
{{- printf "%s-backend" (include "todo-chatbot.fullname" .) }}
{{- end }}

{{- define "todo-chatbot.frontend.fullname" -}}
{{- printf "%s-frontend" (include "todo-chatbot.fullname" .) }}
{{- end }}

{{- define "todo-chatbot.postgresql.fullname" -}}
{{- printf "%s-postgresql" (include "todo-chatbot.fullname" .) }}
{{- end }}

{{- define "todo-chatbot.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels on every object.
*/}}
{{- define "todo-chatbot.labels" -}}
helm.sh/chart: {{ include "todo-chatbot.chart" . }}
{{ include "todo-chatbot.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: {{ include "todo-chatbot.name" . }}
{{- end }}

{{- define "todo-chatbot.selectorLabels" -}}
app.kubernetes.io/name: {{ include "todo-chatbot.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Labels and selector labels of one component: pass (dict "ctx" $ "component" "backend").
*/}}
{{- define "todo-chatbot.componentLabels" -}}
{{ include "todo-chatbot.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "todo-chatbot.componentSelectorLabels" -}}
{{ include "todo-chatbot.selectorLabels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "todo-chatbot.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "todo-chatbot.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
An image reference from an image map: pass (dict "image" .Values.backend.image "ctx" $).
The tag defaults to the chart's appVersion.
*/}}
{{- define "todo-chatbot.image" -}}
{{- $tag := .image.tag | toString }}
{{- if not $tag }}{{ $tag = .ctx.Chart.AppVersion | toString }}{{ end }}
{{- printf "%s:%s" .image.repository $tag }}
{{- end }}

{{/*
The in-cluster database password: postgresql.auth.password if set; else the one
already stored in the release's Secret (so an upgrade keeps it); else a new random
one. The result is kept in .Values so every template of one render sees the same.
*/}}
{{- define "todo-chatbot.postgresql.password" -}}
{{- $auth := .Values.postgresql.auth }}
{{- if not $auth.password }}
{{- $existing := lookup "v1" "Secret" .Release.Namespace (include "todo-chatbot.postgresql.fullname" .) }}
{{- if and $existing $existing.data (index $existing.data "password") }}
{{- $_ := set $auth "password" (index $existing.data "password" | b64dec) }}
{{- else }}
{{- $_ := set $auth "password" (randAlphaNum 24) }}
{{- end }}
{{- end }}
{{- $auth.password }}
{{- end }}

{{/*
Where the backend's DATABASE_URL comes from: a dict with the Secret's name and key.
Fails the render when no database is configured.
*/}}
{{- define "todo-chatbot.databaseUrlSecret" -}}
{{- if .Values.postgresql.enabled }}
{{- dict "name" (include "todo-chatbot.backend.fullname" .) "key" "DATABASE_URL" | toJson }}
{{- else if .Values.externalDatabase.existingSecret }}
{{- dict "name" .Values.externalDatabase.existingSecret "key" (.Values.externalDatabase.existingSecretKey | default "DATABASE_URL") | toJson }}
{{- else if .Values.externalDatabase.url }}
{{- dict "name" (include "todo-chatbot.backend.fullname" .) "key" "DATABASE_URL" | toJson }}
{{- else }}
{{- fail "postgresql.enabled is false but no external database is configured: set externalDatabase.url, or externalDatabase.existingSecret (and externalDatabase.existingSecretKey) naming a Secret that holds the DATABASE_URL" }}
{{- end }}
{{- end }}

{{/*
The DATABASE_URL the chart stores itself (empty when it comes from an existing Secret).
*/}}
{{- define "todo-chatbot.databaseUrl" -}}
{{- if .Values.postgresql.enabled }}
{{- $a := .Values.postgresql.auth }}
{{- printf "postgresql://%s:%s@%s:5432/%s" (urlquery $a.username) (urlquery (include "todo-chatbot.postgresql.password" .)) (include "todo-chatbot.postgresql.fullname" .) $a.database }}
{{- else if not .Values.externalDatabase.existingSecret }}
{{- .Values.externalDatabase.url }}
{{- end }}
{{- end }}
