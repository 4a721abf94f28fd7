package mcpbridge

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// maxEventSize bounds one server-sent event, as the SDK's own client does.
const maxEventSize = 4 << 20

// errEventTooLarge is returned by readEvents for an event over maxEventSize.
var errEventTooLarge = errors.New("server-sent event too large")

// listen opens the session's standalone stream (an HTTP GET), on which the
// server sends what belongs to no call of the client's: tools/list_changed,
// and requests such as elicitation made outside a call. The SDK's client
// connection opens it only for its own MCP client, so the relay opens it
// here. A server without one answers 405; that is not an error.
func (b *Bridge) listen(ctx context.Context, client *http.Client, sessionID string, out mcp.Connection) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.ep.url, nil)
	if err != nil {
		b.log.Warn("mcp standalone stream", "err", err)
		return
	}
	req.Header.Set("Accept", "text/event-stream")
	if sessionID != "" {
		req.Header.Set(headerSessionID, sessionID)
	}
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			b.log.Warn("mcp standalone stream not opened", "err", err)
		}
		return
	}
	defer resp.Body.Close()
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if resp.StatusCode != http.StatusOK || mt != "text/event-stream" {
		b.log.Debug("mcp standalone stream not offered", "status", resp.StatusCode)
		return
	}
	err = readEvents(resp.Body, func(data []byte) error {
		msg, err := jsonrpc.DecodeMessage(data)
		if err != nil {
			return fmt.Errorf("decode event: %w", err)
		}
		return out.Write(ctx, msg)
	})
	if ctx.Err() == nil {
		// Calls still work; only what the server sends outside them is lost.
		b.log.Warn("mcp standalone stream ended: server notifications stop", "err", err)
	}
}

// readEvents calls fn with the data of each "message" event of a
// text/event-stream body (the WHATWG rules: data lines joined by newlines,
// comments and other fields ignored, an event ends at a blank line). Events
// without data, such as resumption primers, are skipped.
func readEvents(r io.Reader, fn func(data []byte) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxEventSize)
	var data bytes.Buffer
	name := ""
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 {
			if d := bytes.TrimSuffix(data.Bytes(), []byte("\n")); len(d) > 0 && (name == "" || name == "message") {
				if err := fn(d); err != nil {
					return err
				}
			}
			data.Reset()
			name = ""
			continue
		}
		field, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimPrefix(value, []byte(" "))
		switch string(field) {
		case "data":
			if data.Len()+len(value) >= maxEventSize {
				return errEventTooLarge
			}
			data.Write(value)
			data.WriteByte('\n')
		case "event":
			name = string(value)
		}
	}
	if errors.Is(sc.Err(), bufio.ErrTooLong) {
		return errEventTooLarge
	}
	return sc.Err()
}
