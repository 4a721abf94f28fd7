// Package approvalnotify tells people that an approval waits for them: it
// watches an approval.Store and, for each new pending approval, POSTs once
// to a webhook (issue 17).
//
// Two bodies are offered. FormatJSON is a documented generic object
// (Payload): the approval's id, agent, action, the policy's reason, how
// many people must approve and which, when it was created and expires, the
// decision id and a link to the approvers' console when one is configured.
// FormatSlack is {"text": "..."}, one sentence for a Slack incoming webhook
// or anything that takes that form. Neither ever carries the call's
// parameters (they may hold personal data; the approver reads them, masked,
// in the console or the API), a token, or who the agent acts for.
//
// Delivery is at most MaxAttempts POSTs per approval, with exponential
// back-off and jitter between them, and only while the approval is still
// pending: a network error, 429 and 5xx are retried; any other answer is
// final. Redirects are never followed. A full queue drops the notification
// (counted in Stats, logged); a slow or dead webhook never blocks the
// store, whose watcher only reads and queues.
//
// The webhook URL is a secret (a Slack webhook URL is its own credential):
// logs and errors name its scheme and host only.
package approvalnotify
