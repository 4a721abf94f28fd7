package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"gopkg.in/yaml.v3"
)

// Load reads, defaults and validates the file at path. Unknown keys are errors.
func Load(path string) (Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	return Parse(raw)
}

// Parse decodes, defaults and validates a configuration document.
func Parse(raw []byte) (Config, error) {
	c, err := decode(raw)
	if err != nil {
		return Config{}, err
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// decode decodes a configuration document and sets its defaults.
func decode(raw []byte) (Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	// An empty document is valid YAML: it means "all defaults" (which then
	// fails validation for the missing Okta org, with a clear message).
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, fmt.Errorf("parse config: %w", err)
	}
	// An address set to "" turns its listener off; SetDefaults cannot tell
	// it from one left out, so the document says which it was.
	var given struct {
		Server struct {
			GRPCListen  *string `yaml:"grpc_listen"`
			AdminListen *string `yaml:"admin_listen"`
		} `yaml:"server"`
	}
	_ = yaml.Unmarshal(raw, &given) // it decoded above
	c.SetDefaults()
	if p := given.Server.GRPCListen; p != nil && *p == "" {
		c.Server.GRPCListen = ""
	}
	if p := given.Server.AdminListen; p != nil && *p == "" {
		c.Server.AdminListen = ""
	}
	return c, nil
}
