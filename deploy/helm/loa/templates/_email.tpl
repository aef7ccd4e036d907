{{/* The e-mail publisher's SMTP relay and message settings (services/email/settings.py). */}}

{{/* Stops the render when the relay is unset, has no network peers, or would get plain SMTP over the
network in production (services.email.smtp.refuse_plain_smtp: only a loopback relay may). */}}
{{- define "loa.smtpChecked" -}}
{{- $smtp := .Values.smtp -}}
{{- $host := required "smtp.host: the SMTP relay the e-mail publisher sends through (services.email is enabled)" $smtp.host -}}
{{- if not (has $smtp.security (list "starttls" "tls" "none")) -}}
{{- fail (printf "smtp.security: %q is none of starttls, tls, none" $smtp.security) -}}
{{- end -}}
{{- if not $smtp.networkPeers -}}
{{- fail "smtp.networkPeers: where the SMTP relay is (an ipBlock or selectors); empty would let the e-mail publisher reach everything" -}}
{{- end -}}
{{- $local := or (eq $host "localhost") (hasPrefix "127." $host) (eq $host "::1") -}}
{{- if and (eq .Values.mode "production") (eq $smtp.security "none") (not $local) -}}
{{- fail (printf "smtp.security: plain SMTP to %s is refused in production (credentials and press releases would cross the network in clear); use starttls or tls" $host) -}}
{{- end -}}
{{- end -}}

{{/* The e-mail publisher's env (no secret but the DKIM key's secretKeyRef). */}}
{{- define "loa.emailEnv" -}}
{{- include "loa.smtpChecked" .root -}}
{{- $v := .root.Values -}}
- name: LOA_EMAIL_SMTP_HOST
  value: {{ $v.smtp.host | quote }}
- name: LOA_EMAIL_SMTP_PORT
  value: {{ $v.smtp.port | quote }}
- name: LOA_EMAIL_SMTP_SECURITY
  value: {{ $v.smtp.security | quote }}
- name: LOA_EMAIL_FROM
  value: {{ $v.email.from | quote }}
- name: LOA_EMAIL_UNSUBSCRIBE_URL
  value: {{ $v.email.unsubscribeUrl | quote }}
- name: LOA_EMAIL_UNSUBSCRIBE_MAILTO
  value: {{ $v.email.unsubscribeMailto | quote }}
- name: LOA_EMAIL_MESSAGES_PER_SECOND
  value: {{ $v.email.messagesPerSecond | quote }}
{{- if $v.email.dkim.enabled }}
- name: LOA_EMAIL_DKIM_SELECTOR
  value: {{ $v.email.dkim.selector | quote }}
{{- with $v.email.dkim.domain }}
- name: LOA_EMAIL_DKIM_DOMAIN
  value: {{ . | quote }}
{{- end }}
- name: LOA_EMAIL_DKIM_PRIVATE_KEY
  valueFrom:
    secretKeyRef: {{- include "loa.secretRef" (merge (dict "kind" "dkimPrivateKey" "owner" "loa-email-dkim") .) | nindent 6 }}
{{- end }}
{{- end -}}

{{/* The e-mail publisher's egress: its SMTP relay on its port, instead of the platforms' 443. */}}
{{- define "loa.smtpEgress" -}}
- to: {{- toYaml .Values.smtp.networkPeers | nindent 4 }}
  ports: [{port: {{ .Values.smtp.port }}, protocol: TCP}]
{{- end -}}
