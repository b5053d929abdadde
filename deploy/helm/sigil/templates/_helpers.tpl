{{- define "sigil.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "sigil.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "sigil.headless" -}}
{{- printf "%s-headless" (include "sigil.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "sigil.authSecret" -}}
{{- default (printf "%s-basic-auth" (include "sigil.fullname" .)) .Values.auth.existingSecret -}}
{{- end -}}

{{- define "sigil.labels" -}}
app.kubernetes.io/name: {{ include "sigil.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "sigil.selector" -}}
app.kubernetes.io/name: {{ include "sigil.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Every node's route address: <sts>-<i>.<headless>.<ns>.svc:<port>. */}}
{{- define "sigil.peers" -}}
{{- $full := include "sigil.fullname" . -}}
{{- $hl := include "sigil.headless" . -}}
{{- $peers := list -}}
{{- range $i := until (int .Values.clusterSize) -}}
{{- $peers = append $peers (printf "%s-%d.%s.%s.svc:%d" $full $i $hl $.Release.Namespace (int $.Values.ports.cluster)) -}}
{{- end -}}
{{- join "," $peers -}}
{{- end -}}
