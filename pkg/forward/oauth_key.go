package forward

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/cryptosigner"
)

// Signing algorithms Okta accepts for a service app's client assertion that
// Bollard supports.
const (
	AlgRS256 = "RS256"
	AlgES256 = "ES256"
)

// minRSABits is the smallest RSA key Okta accepts for private_key_jwt.
const minRSABits = 2048

// ParsePrivateKeyPEM parses the service app's private key: RSA (PKCS#1 "RSA
// PRIVATE KEY" or PKCS#8 "PRIVATE KEY", at least 2048 bits) or EC P-256
// (PKCS#8 or SEC 1 "EC PRIVATE KEY"). Encrypted PEM is refused: decrypt it
// where the secret is stored, not here. Errors never quote the input.
func ParsePrivateKeyPEM(data []byte) (crypto.Signer, error) {
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, errors.New("private key: no PEM private key block found")
		}
		var (
			key any
			err error
		)
		switch block.Type {
		case "RSA PRIVATE KEY":
			key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		case "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(block.Bytes)
		case "ENCRYPTED PRIVATE KEY":
			return nil, errors.New("private key: encrypted PEM is not supported")
		default:
			continue // e.g. "EC PARAMETERS" before the key, or a certificate
		}
		if err != nil {
			return nil, fmt.Errorf("private key: parse %s block: %w", block.Type, err)
		}
		signer, ok := key.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("private key: unsupported key type %T", key)
		}
		if _, err := inferAlgorithm(signer.Public()); err != nil {
			return nil, err
		}
		return signer, nil
	}
}

// inferAlgorithm picks the JWS algorithm for a public key, refusing keys
// Okta would refuse anyway so the mistake shows at start-up, not at the
// first call.
func inferAlgorithm(pub crypto.PublicKey) (string, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < minRSABits {
			return "", fmt.Errorf("private key: RSA key has %d bits, need at least %d", k.N.BitLen(), minRSABits)
		}
		return AlgRS256, nil
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return "", fmt.Errorf("private key: EC key on %s, need P-256", k.Curve.Params().Name)
		}
		return AlgES256, nil
	default:
		return "", fmt.Errorf("private key: unsupported key type %T (need RSA or EC P-256)", pub)
	}
}

// newAssertionSigner builds the go-jose signer of client assertions. Keys
// go-jose knows are handed over directly; any other crypto.Signer (a KMS or
// HSM handle) goes through go-jose's opaque adapter, so the private key never
// has to leave its store.
func newAssertionSigner(key crypto.Signer, alg, keyID string) (jose.Signer, error) {
	var k any = key
	switch key.(type) {
	case *rsa.PrivateKey, *ecdsa.PrivateKey:
	default:
		k = cryptosigner.Opaque(key)
	}
	opts := &jose.SignerOptions{}
	if keyID != "" {
		opts = opts.WithHeader("kid", keyID)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: k}, opts)
	if err != nil {
		return nil, fmt.Errorf("client assertion signer: %w", err)
	}
	return s, nil
}
