// Package approvalcli is `sidecar approvals list|show|approve|deny`: the
// approvers' command line over bollard.v1.ApprovalService.
//
// An approver signs in with the company's identity provider and hands the
// command their token in a file (--token-file, "-" for standard input),
// never on the command line, where other users of the machine could read
// it. The token goes only to the sidecar named by --addr, and in clear
// text only to a loopback address: anything else needs --tls.
package approvalcli
