{{/* The release's name for every object: "<release>-aigw", or the release's own name when it
already says aigw. */}}
{{- define "aigw.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "aigw.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "aigw.labels" -}}
{{ include "aigw.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* The Secret the pods mount: the one you made, or the chart's. */}}
{{- define "aigw.secretName" -}}
{{- .Values.secrets.existingSecret | default (include "aigw.fullname" .) -}}
{{- end -}}

{{/* Whether the chart makes a Secret: values to put in it, and no Secret of yours. */}}
{{- define "aigw.makesSecret" -}}
{{- if and (not .Values.secrets.existingSecret) (or .Values.secrets.values (and .Values.redis.enabled .Values.redis.url) (and .Values.postgresql.enabled .Values.postgresql.url)) -}}
true
{{- end -}}
{{- end -}}

{{/* The Secret holding the admin key, when one is set: yours, or the chart's made of
adminKey.value. Empty: no admin key. */}}
{{- define "aigw.adminSecretName" -}}
{{- if and .Values.adminKey.existingSecret .Values.adminKey.value -}}
{{- fail "adminKey: set existingSecret or value, not both" -}}
{{- end -}}
{{- if .Values.adminKey.existingSecret -}}
{{- .Values.adminKey.existingSecret -}}
{{- else if .Values.adminKey.value -}}
{{- printf "%s-admin" (include "aigw.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/* gateway.yaml: the chart's policies/gateway.yaml, the `gateway` value over it, then what a
fleet needs: Redis for stores.default, the ledger's database, the admin key's file, reload on
change. */}}
{{- define "aigw.gatewayYaml" -}}
{{- $gateway := mergeOverwrite (.Files.Get "policies/gateway.yaml" | fromYaml) (deepCopy (.Values.gateway | default dict)) -}}
{{- if not $gateway.apis -}}
{{- fail "no API to serve: set the gateway value (gateway.yaml) or copy a policies directory into the chart's policies/ folder; deploy/helm/aigw/ci/mock-values.yaml is an example" -}}
{{- end -}}
{{- if .Values.redis.enabled -}}
{{- $stores := get $gateway "stores" | default dict -}}
{{- $_ := set $stores "default" (printf "${file:%s/redis-url}" .Values.secretsPath) -}}
{{- $_ := set $gateway "stores" $stores -}}
{{- end -}}
{{- $ledger := get $gateway "ledger" | default dict -}}
{{- if .Values.postgresql.enabled -}}
{{- $_ := set $ledger "url" (printf "${file:%s/postgresql-url}" .Values.secretsPath) -}}
{{- else if not (hasKey $ledger "url") -}}
{{- $_ := set $ledger "url" .Values.ledger.sqlitePath -}}
{{- end -}}
{{- $_ := set $gateway "ledger" $ledger -}}
{{- if include "aigw.adminSecretName" . -}}
{{- $admin := get $gateway "admin" | default dict -}}
{{- $_ := set $admin "key" (printf "${file:%s/admin-key}" .Values.adminKey.mountPath) -}}
{{- $_ := set $gateway "admin" $admin -}}
{{- end -}}
{{- if .Values.reload.watch -}}
{{- $_ := set $gateway "reload" (dict "watch" true "interval" .Values.reload.interval) -}}
{{- end -}}
{{- toYaml $gateway -}}
{{- end -}}

{{/* The policies directory's files but gateway.yaml: path -> content, from the chart's
policies/ folder, then the `policies.files` value over them. */}}
{{- define "aigw.policyFiles" -}}
{{- $files := dict -}}
{{- range $path, $content := .Files.Glob "policies/**" -}}
{{- $relative := trimPrefix "policies/" $path -}}
{{- if and (ne $relative "gateway.yaml") (regexMatch "\\.(xml|ya?ml)$" $relative) -}}
{{- $_ := set $files $relative (toString $content) -}}
{{- end -}}
{{- end -}}
{{- range $path, $content := .Values.policies.files -}}
{{- $_ := set $files $path $content -}}
{{- end -}}
{{- toYaml $files -}}
{{- end -}}

{{/* A file's key in the ConfigMap: keys cannot hold "/", so apis/chat.xml is apis__chat.xml;
the volume's items put each back at its path. */}}
{{- define "aigw.configKey" -}}
{{- replace "/" "__" . -}}
{{- end -}}
