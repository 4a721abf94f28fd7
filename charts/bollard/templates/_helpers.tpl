{{/*
Named templates. Those marked "public" may be included by other charts to add
Bollard to their own pod spec; pass a context with Values (this chart's
values), Release and Chart, e.g.
  (dict "Values" .Values.bollard "Release" .Release "Chart" (dict "Name" "bollard" "AppVersion" "0.1.0" "Version" "0.1.0"))
*/}}

{{- define "bollard.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "bollard.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "bollard.selectorLabels" -}}
app.kubernetes.io/name: {{ include "bollard.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "bollard.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "bollard.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/*
The approver's names and labels. Its pods carry another app.kubernetes.io/name
than the agent pods, so that no selector of the agent's (Deployment,
Services, NetworkPolicy, PodDisruptionBudget) ever picks an approver pod, nor
the approver's an agent pod.
*/}}
{{- define "bollard.approverFullname" -}}
{{- printf "%s-approver" (include "bollard.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "bollard.approverSelectorLabels" -}}
app.kubernetes.io/name: {{ printf "%s-approver" (include "bollard.name" .) | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: approver
{{- end -}}

{{- define "bollard.approverLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "bollard.approverSelectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "bollard.serviceAccountName" -}}
{{- if .Values.agent.serviceAccount.create -}}
{{- default (include "bollard.fullname" .) .Values.agent.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.agent.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "bollard.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* Paths inside the pod. */}}
{{- define "bollard.socketDir" -}}/var/run/bollard{{- end -}}
{{- define "bollard.socketPath" -}}/var/run/bollard/bollard.sock{{- end -}}
{{- define "bollard.secretsDir" -}}/var/run/secrets/bollard{{- end -}}
{{- define "bollard.tokenDir" -}}/var/run/secrets/tokens{{- end -}}
{{- define "bollard.tokenPath" -}}/var/run/secrets/tokens/bollard-token{{- end -}}

{{/* The policy directory's ConfigMap name, or "" when policies are not from a directory. */}}
{{- define "bollard.policyConfigMap" -}}
{{- if or (eq .Values.policies.source "files") (include "bollard.grantsSet" .) -}}
{{- printf "%s-policies" (include "bollard.fullname" .) -}}
{{- else if eq .Values.policies.source "configMap" -}}
{{- required "policies.existingConfigMap is required with policies.source=configMap" .Values.policies.existingConfigMap -}}
{{- end -}}
{{- end -}}

{{/* "true" when policies.grants is set: the chart builds the policy directory from its copy of the shipped library with these grants. */}}
{{- define "bollard.grantsSet" -}}
{{- if .Values.policies.grants -}}true{{- end -}}
{{- end -}}

{{/* grants.json of the library, from policies.grants (data.bollard.config.grants). */}}
{{- define "bollard.grantsJson" -}}
{{- $g := .Values.policies.grants -}}
{{- $grants := dict "agents" (default (dict) $g.agents) "actions" (default (dict) $g.actions) -}}
{{- dict "bollard" (dict "config" (dict "grants" $grants)) | toPrettyJson -}}
{{- end -}}

{{/* Fails rendering on settings that cannot work. */}}
{{- define "bollard.validate" -}}
{{- $v := .Values -}}
{{- if not $v.okta.orgUrl -}}{{- fail "okta.orgUrl is required (https://<org>.okta.com)" -}}{{- end -}}
{{- if eq $v.okta.credential "ssws" -}}
{{- if not $v.okta.ssws.existingSecret -}}{{- fail "okta.ssws.existingSecret is required with okta.credential=ssws" -}}{{- end -}}
{{- else -}}
{{- if not $v.okta.oauth.existingSecret -}}{{- fail "okta.oauth.existingSecret is required with okta.credential=oauth" -}}{{- end -}}
{{- if not $v.okta.oauth.clientId -}}{{- fail "okta.oauth.clientId is required with okta.credential=oauth" -}}{{- end -}}
{{- end -}}
{{- if and (not $v.identity.agentKeys.existingSecret) (not $v.identity.jwt.enabled) -}}{{- fail "set identity.agentKeys.existingSecret, identity.jwt.enabled or both" -}}{{- end -}}
{{- if $v.identity.jwt.enabled -}}
{{- if eq (empty $v.identity.jwt.jwksUrl) (empty $v.identity.jwt.jwksConfigMap.name) -}}{{- fail "identity.jwt: set exactly one of jwksUrl and jwksConfigMap.name" -}}{{- end -}}
{{- end -}}
{{- if and (eq $v.policies.source "bundle") (not $v.policies.bundle.url) -}}{{- fail "policies.bundle.url is required with policies.source=bundle" -}}{{- end -}}
{{- if and $v.policies.grants (ne $v.policies.source "embedded") -}}{{- fail (printf "policies.grants applies to the shipped policy library (policies.source=embedded); with policies.source=%s put the grants in that policy's grants.json" $v.policies.source) -}}{{- end -}}
{{- if and (eq $v.policies.source "files") (not $v.policies.files) -}}{{- fail "policies.files is empty with policies.source=files" -}}{{- end -}}
{{- if and $v.hooks.enabled (not $v.hooks.secret.existingSecret) -}}{{- fail "hooks.secret.existingSecret is required with hooks.enabled" -}}{{- end -}}
{{- if and (not $v.server.unixSocket) (not $v.server.grpcListen) -}}{{- fail "server: turn on unixSocket, grpcListen or both" -}}{{- end -}}
{{- if and $v.mcp.enabled (or (eq (int $v.mcp.port) (int $v.server.adminPort)) (and $v.hooks.enabled (eq (int $v.mcp.port) (int $v.hooks.port))) (hasSuffix (printf ":%d" (int $v.mcp.port)) $v.server.grpcListen)) -}}{{- fail "mcp.port is taken by the admin port, the event hook port or grpcListen" -}}{{- end -}}
{{- if eq $v.state.backend "redis" -}}
{{- if not (regexMatch "^[^:/@]+:[0-9]+$" $v.state.redis.address) -}}{{- fail "state.redis.address is required as host:port with state.backend=redis" -}}{{- end -}}
{{- if and $v.state.redis.username (not $v.state.redis.password.existingSecret) -}}{{- fail "state.redis.password.existingSecret is required with state.redis.username" -}}{{- end -}}
{{- if and $v.state.redis.tls.clientCertificate (not $v.state.redis.tls.existingSecret) -}}{{- fail "state.redis.tls.existingSecret is required with state.redis.tls.clientCertificate" -}}{{- end -}}
{{- end -}}
{{- if and $v.agent.enabled (not $v.agent.image.repository) -}}{{- fail "agent.image.repository is required with agent.enabled" -}}{{- end -}}
{{- include "bollard.validateApprovals" . -}}
{{- end -}}

{{/* Fails rendering on approvals and approver settings that cannot work. */}}
{{- define "bollard.validateApprovals" -}}
{{- $v := .Values -}}
{{- $a := $v.approvals -}}
{{- if gt (int $a.maxPendingPerAgent) (int $a.maxPending) -}}{{- fail "approvals.maxPendingPerAgent must be at most approvals.maxPending" -}}{{- end -}}
{{- with $a.approvers -}}
{{- if .issuer -}}
{{- if not .audience -}}{{- fail "approvals.approvers.audience is required with approvals.approvers.issuer: the audience of the approvers' access tokens (an API's, e.g. api://bollard-approvals; never a client id)" -}}{{- end -}}
{{- if not .jwksUrl -}}{{- fail "approvals.approvers.jwksUrl is required with approvals.approvers.issuer (an Okta authorization server's is ISSUER/v1/keys)" -}}{{- end -}}
{{- if and $v.identity.jwt.enabled (eq (trimSuffix "/" .issuer) (trimSuffix "/" $v.identity.jwt.issuer)) -}}{{- fail "approvals.approvers.issuer must not be identity.jwt.issuer: an agent's token must never pass for a person's" -}}{{- end -}}
{{- end -}}
{{- end -}}
{{- if and $a.console.enabled (not $a.approvers.issuer) -}}{{- fail "approvals.console.enabled needs approvals.approvers.issuer: people sign in to the console at that identity provider" -}}{{- end -}}
{{- if and $a.console.enabled (not $a.console.clientId) -}}{{- fail "approvals.console.clientId is required with approvals.console.enabled: the console's public OpenID Connect app (PKCE) at the approvers' issuer" -}}{{- end -}}
{{- if and $a.notify.enabled (not $a.notify.webhookUrl.existingSecret) -}}{{- fail "approvals.notify.webhookUrl.existingSecret is required with approvals.notify.enabled: the webhook URL is a credential, read from a Secret you create (mounted as a file), never from values" -}}{{- end -}}
{{- if $v.approver.enabled -}}
{{- $p := $v.approver -}}
{{- if ne $v.state.backend "redis" -}}{{- fail (printf "approver.enabled needs state.backend=redis (it is %s): the approver serves the fleet's approvals, which are in the shared store; a memory store would hold none" $v.state.backend) -}}{{- end -}}
{{- if not $a.approvers.issuer -}}{{- fail "approver.enabled needs approvals.approvers.issuer: the identity provider the people who approve sign in at" -}}{{- end -}}
{{- if not $p.tls.existingSecret -}}{{- fail "approver.tls.existingSecret is required with approver.enabled: a Secret of type kubernetes.io/tls (tls.crt, tls.key) for the gRPC port, where people's tokens cross the network" -}}{{- end -}}
{{- if eq (int $p.grpcPort) (int $p.adminPort) -}}{{- fail "approver.grpcPort and approver.adminPort must differ" -}}{{- end -}}
{{- if and $a.console.enabled (not $a.console.redirectUrl) (not $p.ingress.enabled) -}}{{- fail "approvals.console.redirectUrl is required for the approver's console without approver.ingress.enabled (with it, the default is https://<approver.ingress.host>/approvals/callback)" -}}{{- end -}}
{{- if and $p.ingress.enabled (not $a.console.enabled) -}}{{- fail "approver.ingress.enabled exposes the console: set approvals.console.enabled, or leave the Ingress off" -}}{{- end -}}
{{- if and $p.ingress.enabled (not $p.ingress.host) -}}{{- fail "approver.ingress.host is required with approver.ingress.enabled" -}}{{- end -}}
{{- else -}}
{{- if and $a.console.enabled (not $a.console.redirectUrl) -}}{{- fail (printf "approvals.console.redirectUrl is required with the sidecar's console: its admin port is reached only through kubectl port-forward, so http://127.0.0.1:%d/approvals/callback; or serve the console from the approver (approver.enabled)" (int $v.server.adminPort)) -}}{{- end -}}
{{- end -}}
{{- end -}}

{{/* The okta section: the org and Bollard's credential (the sidecar and the approver). */}}
{{- define "bollard.config.okta" -}}
{{- $v := .Values -}}
{{- $secrets := include "bollard.secretsDir" . -}}
okta:
  org_url: {{ $v.okta.orgUrl | quote }}
  {{- if eq $v.okta.credential "ssws" }}
  api_token_file: {{ printf "%s/okta/%s" $secrets $v.okta.ssws.key | quote }}
  {{- else }}
  oauth:
    client_id: {{ $v.okta.oauth.clientId | quote }}
    private_key_file: {{ printf "%s/okta/%s" $secrets $v.okta.oauth.key | quote }}
    key_id: {{ $v.okta.oauth.keyId | quote }}
    {{- with $v.okta.oauth.scopes }}
    scopes: {{ toJson . }}
    {{- end }}
    dpop: {{ $v.okta.oauth.dpop }}
  {{- end }}
  timeout: {{ $v.okta.timeout }}
{{- end -}}

{{/* The identity section: the agents (the sidecar authenticates them; the approver refuses them as approvers). */}}
{{- define "bollard.config.identity" -}}
{{- $v := .Values -}}
{{- $secrets := include "bollard.secretsDir" . -}}
identity:
  {{- if $v.identity.agentKeys.existingSecret }}
  keys_file: {{ printf "%s/agent-keys/%s" $secrets $v.identity.agentKeys.key | quote }}
  {{- end }}
  {{- if $v.identity.jwt.enabled }}
  jwt:
    issuer: {{ $v.identity.jwt.issuer | quote }}
    audience: {{ $v.identity.jwt.audience | quote }}
    {{- if $v.identity.jwt.jwksUrl }}
    jwks_url: {{ $v.identity.jwt.jwksUrl | quote }}
    {{- else }}
    jwks_file: {{ printf "/etc/bollard/jwks/%s" $v.identity.jwt.jwksConfigMap.key | quote }}
    {{- end }}
    agent_claim: {{ $v.identity.jwt.agentClaim | quote }}
    leeway: {{ $v.identity.jwt.leeway }}
    refresh_interval: {{ $v.identity.jwt.refreshInterval }}
  {{- end }}
{{- end -}}

{{/* The audit section. */}}
{{- define "bollard.config.audit" -}}
{{- $v := .Values -}}
{{- $secrets := include "bollard.secretsDir" . -}}
audit:
  stdout: {{ $v.audit.stdout }}
  file: {{ ternary (printf "/var/log/bollard/%s" $v.audit.file) "" (ne $v.audit.file "") | quote }}
  max_file_bytes: {{ int64 $v.audit.maxFileBytes }}
  max_backups: {{ int $v.audit.maxBackups }}
  {{- if $v.audit.hmacKey.existingSecret }}
  hmac_key_file: {{ printf "%s/audit/%s" $secrets $v.audit.hmacKey.key | quote }}
  {{- end }}
  write_timeout: {{ $v.audit.writeTimeout }}
  fail_open: {{ $v.audit.failOpen }}
  spool_file: {{ printf "/var/log/bollard/%s.spool" (default "audit" $v.audit.file) | quote }}
  spool_max_bytes: {{ int64 $v.audit.spoolMaxBytes }}
  checkpoint_interval: {{ $v.audit.checkpointInterval }}
{{- end -}}

{{/* The state section: the store the fleet shares. */}}
{{- define "bollard.config.state" -}}
{{- $v := .Values -}}
{{- $secrets := include "bollard.secretsDir" . -}}
state:
  backend: {{ $v.state.backend | quote }}
  when_unavailable: {{ $v.state.whenUnavailable | quote }}
  {{- if eq $v.state.backend "redis" }}
  {{- $r := $v.state.redis }}
  redis:
    address: {{ $r.address | quote }}
    {{- with $r.username }}
    username: {{ . | quote }}
    {{- end }}
    {{- if $r.password.existingSecret }}
    password_file: {{ printf "%s/redis/%s" $secrets $r.password.key | quote }}
    {{- end }}
    db: {{ int $r.db }}
    key_prefix: {{ $r.keyPrefix | quote }}
    {{- if $r.tls.enabled }}
    tls:
      enabled: true
      {{- if $r.tls.existingSecret }}
      ca_file: {{ printf "%s/redis-tls/ca.crt" $secrets | quote }}
      {{- end }}
      {{- with $r.tls.serverName }}
      server_name: {{ . | quote }}
      {{- end }}
      {{- if $r.tls.clientCertificate }}
      cert_file: {{ printf "%s/redis-tls/tls.crt" $secrets | quote }}
      key_file: {{ printf "%s/redis-tls/tls.key" $secrets | quote }}
      {{- end }}
    {{- end }}
    dial_timeout: {{ $r.dialTimeout }}
    read_timeout: {{ $r.readTimeout }}
    write_timeout: {{ $r.writeTimeout }}
    pool_size: {{ int $r.poolSize }}
  {{- end }}
{{- end -}}

{{/* The log section. */}}
{{- define "bollard.config.log" -}}
{{- $v := .Values -}}
log:
  level: {{ $v.log.level | quote }}
  format: {{ $v.log.format | quote }}
{{- end -}}

{{/* "true" when the sidecar notifies approvers, and so mounts the webhook Secret. */}}
{{- define "bollard.sidecarNotifies" -}}
{{- if and .Values.approvals.notify.enabled (not .Values.approver.enabled) -}}true{{- end -}}
{{- end -}}

{{/* The console's redirect URL; dict: root, approver (for the approver's config). */}}
{{- define "bollard.consoleRedirectUrl" -}}
{{- $v := .root.Values -}}
{{- if $v.approvals.console.redirectUrl -}}
{{- $v.approvals.console.redirectUrl -}}
{{- else if and .approver $v.approver.ingress.enabled -}}
{{- printf "https://%s/approvals/callback" $v.approver.ingress.host -}}
{{- end -}}
{{- end -}}

{{/* The console's base URL in notifications; dict: root, approver. */}}
{{- define "bollard.notifyConsoleUrl" -}}
{{- $v := .root.Values -}}
{{- if $v.approvals.notify.consoleUrl -}}
{{- $v.approvals.notify.consoleUrl -}}
{{- else if and .approver $v.approver.ingress.enabled $v.approvals.console.enabled -}}
{{- printf "https://%s" $v.approver.ingress.host -}}
{{- end -}}
{{- end -}}

{{/*
The approvals section; dict: root, approver (true for the approver's
config). The people's side (approvers, notify, console) is served by one
kind of process: the approver when it is on, else the sidecar.
*/}}
{{- define "bollard.config.approvals" -}}
{{- $v := .root.Values -}}
{{- $a := $v.approvals -}}
{{- $people := or .approver (not $v.approver.enabled) -}}
approvals:
  max_pending: {{ int $a.maxPending }}
  max_pending_per_agent: {{ int $a.maxPendingPerAgent }}
  {{- if not $people }}
  # approvers, notify and console are the approver's (approver.enabled).
  {{- end }}
  {{- if and $people $a.approvers.issuer }}
  approvers:
    issuer: {{ $a.approvers.issuer | quote }}
    audience: {{ $a.approvers.audience | quote }}
    jwks_url: {{ $a.approvers.jwksUrl | quote }}
    email_claim: {{ $a.approvers.emailClaim | quote }}
    groups_claim: {{ $a.approvers.groupsClaim | quote }}
    user_id_claim: {{ $a.approvers.userIdClaim | quote }}
    leeway: {{ $a.approvers.leeway }}
  {{- end }}
  {{- if and $people $a.notify.enabled }}
  notify:
    webhook_url_file: {{ printf "%s/approvals-webhook/%s" (include "bollard.secretsDir" .root) $a.notify.webhookUrl.key | quote }}
    format: {{ $a.notify.format | quote }}
    {{- with include "bollard.notifyConsoleUrl" . }}
    console_url: {{ . | quote }}
    {{- end }}
    timeout: {{ $a.notify.timeout }}
    max_attempts: {{ int $a.notify.maxAttempts }}
  {{- end }}
  {{- if and $people $a.console.enabled }}
  console:
    enabled: true
    client_id: {{ $a.console.clientId | quote }}
    redirect_url: {{ include "bollard.consoleRedirectUrl" . | quote }}
    listener: admin
  {{- end }}
{{- end -}}

{{/* bollard.yaml, the file `sidecar serve --config` reads (pkg/config). */}}
{{- define "bollard.config" -}}
{{- $v := .Values -}}
{{- $secrets := include "bollard.secretsDir" . -}}
server:
  grpc_listen: {{ $v.server.grpcListen | quote }}
  unix_socket: {{ ternary (include "bollard.socketPath" .) "" $v.server.unixSocket | quote }}
  # On the pod IP for the kubelet's probes and Prometheus; gRPC stays on
  # loopback and the socket.
  admin_listen: {{ printf "0.0.0.0:%d" (int $v.server.adminPort) | quote }}
  allow_non_loopback: true
  max_request_bytes: {{ int $v.server.maxRequestBytes }}
  max_concurrent_streams: {{ int $v.server.maxConcurrentStreams }}
  pprof: {{ $v.server.pprof }}
{{- if $v.mcp.enabled }}
# Loopback only: the agent shares the pod's network namespace.
mcp:
  enabled: true
  listen: {{ include "bollard.mcpListen" . | quote }}
{{- end }}
{{ include "bollard.config.okta" . }}
{{ include "bollard.config.identity" . }}
policy:
  {{- if include "bollard.policyConfigMap" . }}
  dir: /etc/bollard/policies
  {{- else if eq $v.policies.source "bundle" }}
  bundle:
    url: {{ $v.policies.bundle.url | quote }}
    poll_interval: {{ $v.policies.bundle.pollInterval }}
    timeout: {{ $v.policies.bundle.timeout }}
    {{- if $v.policies.bundle.bearerToken.existingSecret }}
    bearer_token_file: {{ printf "%s/bundle/%s" $secrets $v.policies.bundle.bearerToken.key | quote }}
    {{- end }}
    {{- with $v.policies.bundle.verification }}
    {{- if .enabled }}
    verification:
      key_id: {{ .keyId | quote }}
      public_key_file: {{ printf "/etc/bollard/bundle-key/%s" .publicKeyConfigMap.key | quote }}
      algorithm: {{ .algorithm | quote }}
      scope: {{ .scope | quote }}
    {{- end }}
    {{- end }}
  {{- end }}
  eval_timeout: {{ $v.policies.evalTimeout }}
  dry_run_agents: {{ toJson $v.policies.dryRunAgents }}
  target:
    lookup: {{ $v.policies.targetLookup }}
    timeout: {{ $v.policies.targetTimeout }}
confirmation:
  ttl: {{ $v.confirmation.ttl }}
limits:
  agent_requests_per_minute: {{ int $v.limits.agentRequestsPerMinute }}
  agents: {{ toJson $v.limits.agents }}
  okta_max_in_flight: {{ int $v.limits.oktaMaxInFlight }}
  okta_max_waiting: {{ int $v.limits.oktaMaxWaiting }}
  okta_fleet_max_in_flight: {{ int $v.limits.oktaFleetMaxInFlight }}
  okta_reserve: {{ $v.limits.oktaReserve }}
{{ include "bollard.config.audit" . }}
{{- if $v.hooks.enabled }}
hooks:
  listen: {{ printf ":%d" (int $v.hooks.port) | quote }}
  path: {{ $v.hooks.path | quote }}
  auth_header: {{ $v.hooks.authHeader | quote }}
  secret_file: {{ printf "%s/hooks/%s" $secrets $v.hooks.secret.key | quote }}
  max_body_bytes: {{ int64 $v.hooks.maxBodyBytes }}
  replay_events: {{ int $v.hooks.replayEvents }}
  replay_max_age: {{ $v.hooks.replayMaxAge }}
  subscriber_buffer: {{ int $v.hooks.subscriberBuffer }}
  max_watchers: {{ int $v.hooks.maxWatchers }}
  max_watchers_per_agent: {{ int $v.hooks.maxWatchersPerAgent }}
{{- end }}
{{ include "bollard.config.approvals" (dict "root" . "approver" false) }}
{{ include "bollard.config.state" . }}
{{ include "bollard.config.log" . }}
{{- end -}}

{{/*
approver.yaml, the file `sidecar approver --config` reads (pkg/config,
LoadApprover): the sidecars' okta, identity, audit, state and log sections,
the people's side of approvals, and both listeners on the pod IP.
*/}}
{{- define "bollard.approverConfig" -}}
{{- $v := .Values -}}
server:
  # gRPC (ApprovalService, health) for people's command line, over TLS;
  # admin (/healthz, /readyz, /metrics, the console) for the kubelet,
  # Prometheus and the console's Ingress.
  grpc_listen: {{ printf "0.0.0.0:%d" (int $v.approver.grpcPort) | quote }}
  admin_listen: {{ printf "0.0.0.0:%d" (int $v.approver.adminPort) | quote }}
  allow_non_loopback: true
  tls:
    cert_file: {{ printf "%s/tls/tls.crt" (include "bollard.secretsDir" .) | quote }}
    key_file: {{ printf "%s/tls/tls.key" (include "bollard.secretsDir" .) | quote }}
  max_request_bytes: {{ int $v.server.maxRequestBytes }}
  max_concurrent_streams: {{ int $v.server.maxConcurrentStreams }}
  pprof: {{ $v.server.pprof }}
{{ include "bollard.config.okta" . }}
{{ include "bollard.config.identity" . }}
{{ include "bollard.config.audit" . }}
{{ include "bollard.config.approvals" (dict "root" . "approver" true) }}
{{ include "bollard.config.state" . }}
{{ include "bollard.config.log" . }}
{{- end -}}

{{/* A hardened container securityContext. */}}
{{- define "bollard.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
privileged: false
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/*
public: bollard.podAnnotations, checksums that roll the pods when Bollard's
config or policies change.
*/}}
{{- define "bollard.podAnnotations" -}}
checksum/bollard-config: {{ include "bollard.config" . | sha256sum }}
{{- if eq .Values.policies.source "files" }}
checksum/bollard-policies: {{ toJson .Values.policies.files | sha256sum }}
{{- else if include "bollard.grantsSet" . }}
checksum/bollard-policies: {{ printf "%s %s" .Chart.Version (include "bollard.grantsJson" .) | sha256sum }}
{{- end }}
{{- end -}}

{{/*
public: bollard.sidecar, the Bollard container as a native sidecar: one
entry of the pod's initContainers (restartPolicy: Always, Kubernetes 1.29+).
*/}}
{{- define "bollard.sidecar" -}}
{{- include "bollard.validate" . -}}
- name: bollard
  image: {{ include "bollard.image" . | quote }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  restartPolicy: Always
  args: ["serve", "--config", "/etc/bollard/bollard.yaml"]
  ports:
    - name: admin
      containerPort: {{ int .Values.server.adminPort }}
      protocol: TCP
    {{- if .Values.hooks.enabled }}
    - name: hooks
      containerPort: {{ int .Values.hooks.port }}
      protocol: TCP
    {{- end }}
  env:
    - name: GOMEMLIMIT
      valueFrom:
        resourceFieldRef:
          containerName: bollard
          resource: limits.memory
    {{- if .Values.otel.endpoint }}
    - name: OTEL_EXPORTER_OTLP_ENDPOINT
      value: {{ .Values.otel.endpoint | quote }}
    - name: OTEL_EXPORTER_OTLP_PROTOCOL
      value: {{ .Values.otel.protocol | quote }}
    - name: OTEL_TRACES_EXPORTER
      value: otlp
    - name: OTEL_METRICS_EXPORTER
      value: otlp
    {{- end }}
    - name: OTEL_SERVICE_NAME
      value: {{ .Values.otel.serviceName | quote }}
    {{- with .Values.env }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  startupProbe:
    httpGet: {path: /healthz, port: admin}
    {{- toYaml .Values.probes.startup | nindent 4 }}
  # Liveness asks the gRPC health service itself, from inside the
  # container: gRPC listens on the socket or loopback, which the kubelet
  # cannot reach, and the image has no shell, so the binary is the client.
  livenessProbe:
    exec:
      command: ["/sidecar", "health", "--addr", {{ ternary (printf "unix://%s" (include "bollard.socketPath" .)) .Values.server.grpcListen .Values.server.unixSocket | quote }}]
    {{- toYaml .Values.probes.liveness | nindent 4 }}
  readinessProbe:
    httpGet: {path: /readyz, port: admin}
    {{- toYaml .Values.probes.readiness | nindent 4 }}
  resources:
    {{- toYaml .Values.resources | nindent 4 }}
  securityContext:
    {{- include "bollard.containerSecurityContext" . | nindent 4 }}
  volumeMounts:
    - {name: bollard-socket, mountPath: {{ include "bollard.socketDir" . }}}
    - {name: bollard-config, mountPath: /etc/bollard/bollard.yaml, subPath: bollard.yaml, readOnly: true}
    - {name: bollard-tmp, mountPath: /tmp}
    - {name: bollard-audit, mountPath: /var/log/bollard}
    {{- if include "bollard.policyConfigMap" . }}
    - {name: bollard-policies, mountPath: /etc/bollard/policies, readOnly: true}
    {{- end }}
    - {name: bollard-okta, mountPath: {{ include "bollard.secretsDir" . }}/okta, readOnly: true}
    {{- if .Values.identity.agentKeys.existingSecret }}
    - {name: bollard-agent-keys, mountPath: {{ include "bollard.secretsDir" . }}/agent-keys, readOnly: true}
    {{- end }}
    {{- if and .Values.identity.jwt.enabled .Values.identity.jwt.jwksConfigMap.name }}
    - {name: bollard-jwks, mountPath: /etc/bollard/jwks, readOnly: true}
    {{- end }}
    {{- if .Values.audit.hmacKey.existingSecret }}
    - {name: bollard-audit-key, mountPath: {{ include "bollard.secretsDir" . }}/audit, readOnly: true}
    {{- end }}
    {{- if .Values.hooks.enabled }}
    - {name: bollard-hook-secret, mountPath: {{ include "bollard.secretsDir" . }}/hooks, readOnly: true}
    {{- end }}
    {{- if and (eq .Values.policies.source "bundle") .Values.policies.bundle.bearerToken.existingSecret }}
    - {name: bollard-bundle-token, mountPath: {{ include "bollard.secretsDir" . }}/bundle, readOnly: true}
    {{- end }}
    {{- if and (eq .Values.policies.source "bundle") .Values.policies.bundle.verification.enabled }}
    - {name: bollard-bundle-key, mountPath: /etc/bollard/bundle-key, readOnly: true}
    {{- end }}
    {{- if and (eq .Values.state.backend "redis") .Values.state.redis.password.existingSecret }}
    - {name: bollard-redis-password, mountPath: {{ include "bollard.secretsDir" . }}/redis, readOnly: true}
    {{- end }}
    {{- if and (eq .Values.state.backend "redis") .Values.state.redis.tls.enabled .Values.state.redis.tls.existingSecret }}
    - {name: bollard-redis-tls, mountPath: {{ include "bollard.secretsDir" . }}/redis-tls, readOnly: true}
    {{- end }}
    {{- if include "bollard.sidecarNotifies" . }}
    - {name: bollard-approvals-webhook, mountPath: {{ include "bollard.secretsDir" . }}/approvals-webhook, readOnly: true}
    {{- end }}
{{- end -}}

{{/* public: bollard.volumes, the pod volumes bollard.sidecar and bollard.agentVolumeMounts use. */}}
{{- define "bollard.volumes" -}}
- name: bollard-socket
  emptyDir: {medium: Memory, sizeLimit: 1Mi}
- name: bollard-tmp
  emptyDir: {sizeLimit: 64Mi}
- name: bollard-config
  configMap:
    name: {{ include "bollard.fullname" . }}-config
# The audit file, if any, and the spool of outcomes no sink took yet.
- name: bollard-audit
  emptyDir: {sizeLimit: 2Gi}
{{- with include "bollard.policyConfigMap" . }}
- name: bollard-policies
  configMap:
    name: {{ . }}
{{- end }}
- name: bollard-okta
  secret:
    {{- if eq .Values.okta.credential "ssws" }}
    secretName: {{ .Values.okta.ssws.existingSecret }}
    items: [{key: {{ .Values.okta.ssws.key | quote }}, path: {{ .Values.okta.ssws.key | quote }}}]
    {{- else }}
    secretName: {{ .Values.okta.oauth.existingSecret }}
    items: [{key: {{ .Values.okta.oauth.key | quote }}, path: {{ .Values.okta.oauth.key | quote }}}]
    {{- end }}
    defaultMode: 0440
{{- with .Values.identity.agentKeys.existingSecret }}
- name: bollard-agent-keys
  secret:
    secretName: {{ . }}
    defaultMode: 0440
{{- end }}
{{- if and .Values.identity.jwt.enabled .Values.identity.jwt.jwksConfigMap.name }}
- name: bollard-jwks
  configMap:
    name: {{ .Values.identity.jwt.jwksConfigMap.name }}
{{- end }}
{{- if .Values.identity.jwt.enabled }}
- name: bollard-agent-token
  projected:
    defaultMode: 0440
    sources:
      - serviceAccountToken:
          audience: {{ .Values.identity.jwt.audience | quote }}
          expirationSeconds: {{ int .Values.identity.jwt.tokenExpirationSeconds }}
          path: bollard-token
{{- end }}
{{- with .Values.audit.hmacKey.existingSecret }}
- name: bollard-audit-key
  secret:
    secretName: {{ . }}
    defaultMode: 0440
{{- end }}
{{- if .Values.hooks.enabled }}
- name: bollard-hook-secret
  secret:
    secretName: {{ .Values.hooks.secret.existingSecret }}
    defaultMode: 0440
{{- end }}
{{- if and (eq .Values.policies.source "bundle") .Values.policies.bundle.bearerToken.existingSecret }}
- name: bollard-bundle-token
  secret:
    secretName: {{ .Values.policies.bundle.bearerToken.existingSecret }}
    defaultMode: 0440
{{- end }}
{{- if and (eq .Values.policies.source "bundle") .Values.policies.bundle.verification.enabled }}
- name: bollard-bundle-key
  configMap:
    name: {{ required "policies.bundle.verification.publicKeyConfigMap.name is required" .Values.policies.bundle.verification.publicKeyConfigMap.name }}
{{- end }}
{{- if and (eq .Values.state.backend "redis") .Values.state.redis.password.existingSecret }}
- name: bollard-redis-password
  secret:
    secretName: {{ .Values.state.redis.password.existingSecret }}
    items: [{key: {{ .Values.state.redis.password.key | quote }}, path: {{ .Values.state.redis.password.key | quote }}}]
    defaultMode: 0440
{{- end }}
{{- if and (eq .Values.state.backend "redis") .Values.state.redis.tls.enabled .Values.state.redis.tls.existingSecret }}
- name: bollard-redis-tls
  secret:
    secretName: {{ .Values.state.redis.tls.existingSecret }}
    defaultMode: 0440
{{- end }}
{{- if include "bollard.sidecarNotifies" . }}
{{- include "bollard.webhookVolume" . | nindent 0 }}
{{- end }}
{{- end -}}

{{/* The webhook URL's Secret, as a file (never an environment variable). */}}
{{- define "bollard.webhookVolume" -}}
- name: bollard-approvals-webhook
  secret:
    secretName: {{ .Values.approvals.notify.webhookUrl.existingSecret }}
    items: [{key: {{ .Values.approvals.notify.webhookUrl.key | quote }}, path: {{ .Values.approvals.notify.webhookUrl.key | quote }}}]
    defaultMode: 0440
{{- end -}}

{{/* public: bollard.agentVolumeMounts, what the agent container mounts: the socket and its projected token. */}}
{{- define "bollard.agentVolumeMounts" -}}
- {name: bollard-socket, mountPath: {{ include "bollard.socketDir" . }}}
{{- if .Values.identity.jwt.enabled }}
- {name: bollard-agent-token, mountPath: {{ include "bollard.tokenDir" . }}, readOnly: true}
{{- end }}
{{- end -}}

{{/* bollard.mcpListen, the MCP front's address: loopback in the pod. */}}
{{- define "bollard.mcpListen" -}}
{{- printf "127.0.0.1:%d" (int .Values.mcp.port) -}}
{{- end -}}

{{/* public: bollard.agentEnv, how the agent finds Bollard and its token. */}}
{{- define "bollard.agentEnv" -}}
- name: {{ .Values.agent.addressEnv }}
  value: {{ ternary (printf "unix://%s" (include "bollard.socketPath" .)) .Values.server.grpcListen .Values.server.unixSocket | quote }}
{{- if .Values.mcp.enabled }}
- name: {{ .Values.mcp.urlEnv }}
  value: {{ printf "http://%s/mcp" (include "bollard.mcpListen" .) | quote }}
{{- end }}
{{- if .Values.identity.jwt.enabled }}
- name: {{ .Values.agent.tokenFileEnv }}
  value: {{ include "bollard.tokenPath" . | quote }}
{{- end }}
{{- end -}}
