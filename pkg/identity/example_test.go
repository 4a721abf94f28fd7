package identity_test

import (
	"context"
	"fmt"

	"google.golang.org/grpc/metadata"

	"github.com/bollard-dev/bollard/pkg/identity"
)

func Example() {
	// Dev mode: the well-known sample keys. In production, LoadKeyFile and/or
	// NewJWTVerifier with the cluster's issuer and JWKS.
	auth, err := identity.New(identity.WithStaticKeys(identity.DevKeyStore()))
	if err != nil {
		panic(err)
	}

	// What a gRPC handler or interceptor receives from the agent.
	md := metadata.Pairs("authorization", "Bearer "+identity.DevKeys()["reader-bot"])

	cred, err := identity.FromMetadata(md)
	if err != nil {
		fmt.Println(identity.ReasonOf(err))
		return
	}
	id, err := auth.Authenticate(context.Background(), cred)
	if err != nil {
		fmt.Println(identity.ReasonOf(err))
		return
	}
	fmt.Println(id.ID, id.Method)

	_, err = auth.Authenticate(context.Background(), "bk_not-a-real-key")
	fmt.Println(identity.ReasonOf(err))
	// Output:
	// reader-bot key
	// unknown_key
}

func ExampleGenerateKey() {
	key, _ := identity.GenerateKey() // give this to the agent, once
	ks, _ := identity.NewKeyStore([]identity.AgentKey{
		{ID: "reader-bot", KeySHA256: identity.HashKey(key)}, // store only this
	})
	fmt.Println(ks.Len())
	// Output: 1
}
