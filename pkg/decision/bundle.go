package decision

import (
	"archive/tar"
	"bytes"
	"cmp"
	"compress/gzip"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/bundle"
	"github.com/open-policy-agent/opa/v1/keys"
)

// DefaultBundleMaxBytes bounds a bundle as stored or downloaded (gzip
// compressed). Uncompressed, its files are bounded like a directory's.
const DefaultBundleMaxBytes = 64 << 20

// maxRevisionLen bounds a manifest revision, which is copied into every
// decision, log line and audit record.
const maxRevisionLen = 128

// BundleVerification checks the signature of every bundle loaded, as
// written by `opa build --signing-key` or `opa sign`. A bundle without a
// valid signature by the key is refused.
type BundleVerification struct {
	// KeyID names the key. The signature is checked with this key whatever
	// key id the bundle names.
	KeyID string
	// PublicKey is the PEM-encoded public key (RSA or ECDSA, or a
	// certificate), or for the HS algorithms the shared secret.
	PublicKey string
	// Algorithm the bundle is signed with: RS256 (the default, as opa
	// build's), RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512,
	// HS256, HS384 or HS512.
	Algorithm string
	// Scope, when set, must equal the scope the bundle was signed with
	// (`opa build --scope`). When empty, the bundle must be signed without
	// one.
	Scope string
}

// config checks v and turns it into OPA's verification configuration.
func (v *BundleVerification) config() (*bundle.VerificationConfig, error) {
	if v == nil {
		return nil, nil
	}
	var errs []error
	if v.KeyID == "" {
		errs = append(errs, errors.New("key id is empty"))
	}
	alg := cmp.Or(v.Algorithm, "RS256")
	switch {
	case !keys.IsSupportedAlgorithm(alg):
		errs = append(errs, fmt.Errorf("unsupported algorithm %q", alg))
	case v.PublicKey == "":
		errs = append(errs, errors.New("public key is empty"))
	case !strings.HasPrefix(alg, "HS"):
		if err := checkPublicKey(v.PublicKey); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("bundle verification: %w", err)
	}
	kc := &bundle.KeyConfig{Key: v.PublicKey, Algorithm: alg, Scope: v.Scope}
	return bundle.NewVerificationConfig(map[string]*bundle.KeyConfig{v.KeyID: kc}, v.KeyID, v.Scope, nil), nil
}

// checkPublicKey parses the key now, so that a mistake stops the start-up
// instead of refusing every bundle later. A private key is refused: it has
// no business in the sidecar's configuration.
func checkPublicKey(key string) error {
	block, _ := pem.Decode([]byte(key))
	if block == nil {
		return errors.New("public key is not PEM")
	}
	var err error
	switch block.Type {
	case "PUBLIC KEY":
		_, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		_, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case "CERTIFICATE":
		_, err = x509.ParseCertificate(block.Bytes)
	default:
		if strings.Contains(block.Type, "PRIVATE") {
			return errors.New("public key is a private key; give the public key only")
		}
		return fmt.Errorf("public key: unsupported PEM block %q", block.Type)
	}
	if err != nil {
		return fmt.Errorf("public key: %w", err)
	}
	return nil
}

// bundleSnapshot makes a snapshot of a gzipped tar bundle. Its digest is a
// hash of the bytes, so that unchanged bytes are not parsed or verified
// again; parsing, the signature check included, waits until the engine
// needs the policy.
func bundleSnapshot(raw []byte, vc *bundle.VerificationConfig) snapshot {
	sum := sha256.Sum256(raw)
	return snapshot{
		digest: hex.EncodeToString(sum[:]),
		parse: func() (parsed, error) {
			p, err := parseBundle(raw, vc)
			if err != nil {
				return parsed{}, fmt.Errorf("read bundle: %w", err)
			}
			return p, nil
		},
	}
}

// parseBundle reads a bundle with OPA's reader, which checks the signature
// (when vc is set) and that modules and data stay within the manifest's
// roots, then parses its modules the way a directory's are parsed.
func parseBundle(raw []byte, vc *bundle.VerificationConfig) (parsed, error) {
	if err := checkArchive(raw, maxSourceBytes); err != nil {
		return parsed{}, err
	}
	r := bundle.NewCustomReader(bundle.NewTarballLoader(bytes.NewReader(raw)).WithSizeLimitBytes(maxSourceBytes)).
		WithSizeLimitBytes(maxSourceBytes).
		WithLazyLoadingMode(false).
		WithRegoVersion(ast.RegoV1).
		WithProcessAnnotations(true).
		WithCapabilities(Capabilities())
	if vc != nil {
		r = r.WithBundleVerificationConfig(vc)
	} else {
		// Without a key there is nothing to check a signature against.
		r = r.WithSkipBundleVerification(true)
	}
	b, err := r.Read()
	if err != nil {
		return parsed{}, err
	}
	if err := checkBundle(&b); err != nil {
		return parsed{}, err
	}

	modules := map[string]*ast.Module{}
	var files []policyFile
	var errs []error
	for _, mf := range b.Modules {
		name := strings.TrimPrefix(mf.Path, "/")
		if strings.HasSuffix(name, "_test.rego") {
			continue // tests are not part of the policy, as in a directory
		}
		// Parsed again under its name in the bundle, so that locations
		// read "authz.rego:12" as they do for a directory.
		m, err := parseModule(name, mf.Raw)
		if err != nil {
			errs = append(errs, fmt.Errorf("parse %s: %w", name, err))
			continue
		}
		modules[name] = m
		files = append(files, policyFile{path: name, data: mf.Raw})
	}
	if err := errors.Join(errs...); err != nil {
		return parsed{}, err
	}
	if len(modules) == 0 {
		return parsed{}, errors.New("no .rego files")
	}
	v, err := ast.InterfaceToValue(b.Data)
	if err != nil {
		return parsed{}, fmt.Errorf("data: %w", err)
	}
	data, ok := v.(ast.Object)
	if !ok {
		return parsed{}, errors.New("data is not an object")
	}
	// The content hash covers the modules and the data as JSON (object keys
	// sorted), the same whatever the bundle's layout or compression.
	dataJSON, err := json.Marshal(b.Data)
	if err != nil {
		return parsed{}, fmt.Errorf("data: %w", err)
	}
	slices.SortFunc(files, func(a, b policyFile) int { return strings.Compare(a.path, b.path) })
	files = append(files, policyFile{path: "\x00data", data: dataJSON})
	rev := cmp.Or(b.Manifest.Revision, revisionOf(files))
	return parsed{modules: modules, data: data, revision: rev, files: len(modules)}, nil
}

// checkBundle refuses what Bollard cannot evaluate, or report.
func checkBundle(b *bundle.Bundle) error {
	if b.Type() == bundle.DeltaBundleType {
		return errors.New("delta bundles are not supported")
	}
	if len(b.WasmModules) > 0 || len(b.PlanModules) > 0 {
		return errors.New("wasm and plan modules are not supported: Bollard evaluates Rego")
	}
	if v := b.Manifest.RegoVersion; v != nil && *v != 1 {
		return fmt.Errorf("manifest rego_version %d: Bollard policies are Rego v1", *v)
	}
	for f, v := range b.Manifest.FileRegoVersions {
		if v != 1 {
			return fmt.Errorf("manifest file_rego_versions %s: %d: Bollard policies are Rego v1", f, v)
		}
	}
	rev := b.Manifest.Revision
	if len(rev) > maxRevisionLen || strings.ContainsFunc(rev, func(r rune) bool { return !unicode.IsPrint(r) }) {
		return fmt.Errorf("manifest revision must be at most %d printable characters", maxRevisionLen)
	}
	return nil
}

// checkArchive walks the gzipped tar without keeping it, and fails if it
// does not parse or its files add up to more than limit bytes: a small
// download must not unpack into a large one (OPA's reader bounds files one
// at a time, and allocates a file's declared size up front).
func checkArchive(raw []byte, limit int64) error {
	gz, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("not a gzipped tar: %w", err)
	}
	tr := tar.NewReader(gz)
	var total int64
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("not a gzipped tar: %w", err)
		}
		if total += h.Size; total > limit || h.Size < 0 {
			return fmt.Errorf("bundle files exceed %d bytes uncompressed", limit)
		}
		if _, err := io.Copy(io.Discard, tr); err != nil {
			return fmt.Errorf("not a gzipped tar: %w", err)
		}
	}
}
