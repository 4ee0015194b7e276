{{/* Labels every object carries: deploy/'s own, then Helm's bookkeeping. */}}
{{- define "aimsource.labels" -}}
app.kubernetes.io/name: aimsource
app.kubernetes.io/part-of: aim
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | quote }}
{{- end }}

{{/* The operator's pods: what the Deployment, the Services and the PDB select. */}}
{{- define "aimsource.selector" -}}
app.kubernetes.io/name: aimsource
app.kubernetes.io/component: operator
{{- end }}

{{- define "aimsource.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{/* An optional flag as an AIMSOURCE_* variable: rendered only when the value is not null.
Whole numbers are written without a fraction or exponent (values arrive as float64: 100000, not 1e+05). */}}
{{- define "aimsource.optionalEnv" -}}
{{- $value := .value }}
{{- if not (kindIs "invalid" $value) }}
{{- if and (kindIs "float64" $value) (eq $value (float64 (int64 $value))) }}
{{- $value = int64 $value }}
{{- end }}
- name: {{ .name }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- end }}
