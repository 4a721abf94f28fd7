package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"strconv"
)

// genesis is the prev_hash of the first record of a chain.
const genesis = "0000000000000000000000000000000000000000000000000000000000000000"

const (
	hashLen    = 64 // hex SHA-256
	hashMember = `,"hash":"`
	// hashSuffixLen is `,"hash":"<64 hex>"}`: the tail every record ends
	// with, so a verifier can remove it by position.
	hashSuffixLen = len(hashMember) + hashLen + 2
)

// appendLine completes a record body (see appendBody) with the chain
// fields and a newline. The hash is SHA-256 over prev_hash followed by the
// record's bytes without its hash member: `{...,"seq":N,"prev_hash":"P"}`.
// prev is updated to the new record's hash.
func appendLine(b, body []byte, seq uint64, prev *[hashLen]byte, h hash.Hash, sum *[sha256.Size]byte) []byte {
	start := len(b)
	b = append(b, body...)
	b = append(b, `,"seq":`...)
	b = strconv.AppendUint(b, seq, 10)
	b = append(b, `,"prev_hash":"`...)
	b = append(b, prev[:]...)
	b = append(b, `"}`...)
	h.Reset()
	h.Write(prev[:])
	h.Write(b[start:])
	h.Sum(sum[:0])
	hex.Encode(prev[:], sum[:])
	b = append(b[:len(b)-1], hashMember...)
	b = append(b, prev[:]...)
	return append(b, '"', '}', '\n')
}

// link is what the chain needs from one record.
type link struct {
	seq        uint64
	prev, hash string
	// unsigned is the record without its hash member, less the closing
	// brace (the bytes the hash covers are unsigned + "}").
	unsigned []byte
}

var errNoHash = errors.New(`record does not end with a "hash" member`)

// parseLink reads the chain fields of one line (without its newline). The
// whole line must be valid JSON and the hash must be its last member.
func parseLink(line []byte) (link, error) {
	if len(line) < hashSuffixLen || !bytes.HasSuffix(line, []byte(`"}`)) ||
		!bytes.Equal(line[len(line)-hashSuffixLen:len(line)-hashLen-2], []byte(hashMember)) {
		return link{}, errNoHash
	}
	var f struct {
		Seq      *uint64 `json:"seq"`
		PrevHash string  `json:"prev_hash"`
		Hash     string  `json:"hash"`
	}
	if err := json.Unmarshal(line, &f); err != nil {
		return link{}, fmt.Errorf("not a JSON object: %w", err)
	}
	tail := string(line[len(line)-hashLen-2 : len(line)-2])
	switch {
	case f.Seq == nil || *f.Seq == 0:
		return link{}, errors.New("no seq")
	case !isHex(f.PrevHash):
		return link{}, errors.New("prev_hash is not a SHA-256 in hex")
	case f.Hash != tail || !isHex(tail):
		return link{}, errNoHash
	}
	return link{seq: *f.Seq, prev: f.PrevHash, hash: tail, unsigned: line[:len(line)-hashSuffixLen]}, nil
}

// sum recomputes the record's hash from its bytes.
func (l link) sum(h hash.Hash) string {
	h.Reset()
	h.Write([]byte(l.prev))
	h.Write(l.unsigned)
	h.Write([]byte{'}'})
	var sum [32]byte
	return hex.EncodeToString(h.Sum(sum[:0]))
}

func isHex(s string) bool {
	if len(s) != hashLen {
		return false
	}
	for i := range len(s) {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
