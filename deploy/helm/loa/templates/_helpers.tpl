{{/* The chart's names, labels and the tables generated from the code (files/loa.json). */}}

{{- define "loa.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* files/loa.json: principals, ACLs, groups, store users and ports of every service (deploy/helm/chart_tables.py). */}}
{{- define "loa.tables" -}}
{{- .Files.Get "files/loa.json" -}}
{{- end -}}

{{- define "loa.labels" -}}
app.kubernetes.io/name: loa
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* loa.selector (dict "root" $ "service" "tracker") */}}
{{- define "loa.selector" -}}
app.kubernetes.io/name: loa
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .service }}
{{- end -}}

{{/* The chart's own Secret of a service: only that service's credentials. */}}
{{- define "loa.secretName" -}}
{{- printf "%s-%s" (include "loa.fullname" .root) .service -}}
{{- end -}}

{{/* loa.secretRef (dict "root" $ "service" "ingest" "kind" "kafkaPassword" "owner" "loa-ingest"):
a secretKeyRef to the credential, in the service's own Secret or, when secrets.existing.<kind> is set,
in the Secret an operator made (its name: nameTemplate with the owner's name, e.g. Strimzi's KafkaUser). */}}
{{- define "loa.secretRef" -}}
{{- $existing := index .root.Values.secrets.existing .kind -}}
{{- if $existing -}}
name: {{ printf $existing.nameTemplate (.owner | replace "_" "-") | quote }}
key: {{ $existing.key | quote }}
{{- else -}}
name: {{ include "loa.secretName" . | quote }}
key: {{ .kind | quote }}
{{- end -}}
{{- end -}}

{{/* The restricted pod security standard, for every pod of the chart. */}}
{{- define "loa.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "loa.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "loa.image" -}}
{{- printf "%s:%s" .Values.image.repository .Values.image.tag | quote -}}
{{- end -}}

{{/* The sandbox's address inside the cluster (development only). */}}
{{- define "loa.sandboxUrl" -}}
{{- printf "http://%s-sandbox:8090" (include "loa.fullname" .) -}}
{{- end -}}

{{/* Stops the render when production would talk to the sandbox or a platform over plain http. */}}
{{- define "loa.refuseSandboxInProduction" -}}
{{- if not (has .Values.mode (list "production" "development")) -}}
{{- fail (printf "mode: %q is neither production nor development" .Values.mode) -}}
{{- end -}}
{{- if eq .Values.mode "production" -}}
{{- if .Values.sandbox.enabled -}}
{{- fail "sandbox.enabled: production (mode: production) never runs the sandbox; use mode: development for a test cluster" -}}
{{- end -}}
{{- range $setting, $url := .Values.platformUrls -}}
{{- if or (contains "sandbox" $url) (not (hasPrefix "https://" $url)) -}}
{{- fail (printf "platformUrls.%s: production refuses %s (the sandbox, or not https://); unset it for the real platform" $setting $url) -}}
{{- end -}}
{{- end -}}
{{- if not (hasPrefix "https://" .Values.website.baseUrl) -}}
{{- fail "website.baseUrl: production needs the website's public https:// address (it is written into every post)" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* LOA_TRACKER_PUBLISHER_HEALTH: each enabled publisher's /readyz, shown on the dashboard. */}}
{{- define "loa.publisherHealth" -}}
{{- $t := include "loa.tables" . | fromJson -}}
{{- $urls := dict -}}
{{- range $name, $svc := $t.services -}}
{{- if and $svc.publisher (index $.Values.services $name).enabled -}}
{{- $_ := set $urls $name (printf "http://%s-%s:%v/readyz" (include "loa.fullname" $) $name $svc.healthPort) -}}
{{- end -}}
{{- end -}}
{{- toJson $urls -}}
{{- end -}}
