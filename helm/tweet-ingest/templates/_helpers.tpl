{{- define "tweet-ingest.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "tweet-ingest.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "tweet-ingest.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "tweet-ingest.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tweet-ingest.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The daemon's pods; the migration Job's pods carry component: migrations and are kept
out of the Service, the PodDisruptionBudget and the spread constraints. */}}
{{- define "tweet-ingest.serverSelectorLabels" -}}
{{ include "tweet-ingest.selectorLabels" . }}
app.kubernetes.io/component: server
{{- end }}

{{- define "tweet-ingest.labels" -}}
helm.sh/chart: {{ include "tweet-ingest.chart" . }}
{{ include "tweet-ingest.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: tweet-ingest
{{- end }}

{{- define "tweet-ingest.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "tweet-ingest.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret the Deployment reads DATABASE_URL and ADMIN_TOKEN from. */}}
{{- define "tweet-ingest.secretName" -}}
{{- default (include "tweet-ingest.fullname" .) .Values.secret.existingSecret }}
{{- end }}

{{/* The Secret the migration hook reads: a hook copy of the chart's Secret, because hooks
run before the release's own resources exist on a first install. */}}
{{- define "tweet-ingest.migrationsSecretName" -}}
{{- if .Values.secret.existingSecret }}
{{- .Values.secret.existingSecret }}
{{- else }}
{{- printf "%s-migrations" (include "tweet-ingest.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "tweet-ingest.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* An environment value as text. Numbers from -f files arrive as float64 and would print
as 1.048576e+06: whole numbers are printed as integers. */}}
{{- define "tweet-ingest.envValue" -}}
{{- if and (kindIs "float64" .) (eq (float64 (int64 .)) .) }}
{{- int64 . | toString }}
{{- else }}
{{- toString . }}
{{- end }}
{{- end }}

{{/* The service's default DRAIN_TIMEOUT_MS (src/config/environment.ts), used when
config.drainTimeoutMs is null; the chart tests compare the two. */}}
{{- define "tweet-ingest.drainTimeoutMs" -}}
{{- if kindIs "invalid" .Values.config.drainTimeoutMs }}30000{{ else }}{{ include "tweet-ingest.envValue" .Values.config.drainTimeoutMs }}{{ end }}
{{- end }}

{{/* Longer than the drain: seconds of the drain, rounded up, plus time to release leases
and close the pool and the database. */}}
{{- define "tweet-ingest.terminationGracePeriodSeconds" -}}
{{- $drainMs := include "tweet-ingest.drainTimeoutMs" . | int64 }}
{{- add (div (add $drainMs 999) 1000) .Values.terminationGraceExtraSeconds }}
{{- end }}

{{/* Stops the render with every missing required value named at once. */}}
{{- define "tweet-ingest.validateValues" -}}
{{- $problems := list }}
{{- if not .Values.config.storageUrl }}
{{- $problems = append $problems "config.storageUrl is required: gs://BUCKET[/PREFIX] of the tweet files" }}
{{- end }}
{{- if not .Values.secret.existingSecret }}
{{- if not .Values.secret.databaseUrl }}
{{- $problems = append $problems "secret.databaseUrl (or secret.existingSecret) is required: postgres://USER:PASSWORD@HOST:5432/DATABASE" }}
{{- end }}
{{- if and (eq .Values.config.nodeEnv "production") (not .Values.secret.adminToken) }}
{{- $problems = append $problems "secret.adminToken (or secret.existingSecret) is required with config.nodeEnv=production: at least 16 characters, e.g. openssl rand -hex 32" }}
{{- end }}
{{- end }}
{{- if $problems }}
{{- fail (printf "\n  - %s" (join "\n  - " $problems)) }}
{{- end }}
{{- end }}

{{/* The container environment, shared by the Deployment and the migration Job.
Every key of .Values.config is one variable: its name is the key in SCREAMING_SNAKE_CASE.
null and "" render nothing, so the service's default applies. */}}
{{- define "tweet-ingest.env" -}}
{{- $root := .root }}
{{- range $key, $value := $root.Values.config }}
{{- if not (or (kindIs "invalid" $value) (eq (toString $value) "")) }}
- name: {{ $key | snakecase | upper }}
  value: {{ include "tweet-ingest.envValue" $value | quote }}
{{- end }}
{{- end }}
{{- if $root.Values.secret.keys.databaseUrl }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ .secretName }}
      key: {{ $root.Values.secret.keys.databaseUrl }}
{{- end }}
{{- if and $root.Values.secret.keys.adminToken (or $root.Values.secret.existingSecret $root.Values.secret.adminToken) }}
- name: ADMIN_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ .secretName }}
      key: {{ $root.Values.secret.keys.adminToken }}
{{- end }}
{{- with $root.Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* stringData of the chart's Secret (and of its migration hook copy). */}}
{{- define "tweet-ingest.secretData" -}}
{{ .Values.secret.keys.databaseUrl }}: {{ .Values.secret.databaseUrl | quote }}
{{- if .Values.secret.adminToken }}
{{ .Values.secret.keys.adminToken }}: {{ .Values.secret.adminToken | quote }}
{{- end }}
{{- end }}

{{- define "tweet-ingest.tmpVolume" -}}
{{- $emptyDir := dict }}
{{- with .Values.tmpVolume.medium }}{{ $_ := set $emptyDir "medium" . }}{{ end }}
{{- with .Values.tmpVolume.sizeLimit }}{{ $_ := set $emptyDir "sizeLimit" . }}{{ end }}
- name: tmp
  emptyDir: {{- toYaml $emptyDir | nindent 4 }}
{{- end }}
