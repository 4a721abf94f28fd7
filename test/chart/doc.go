// Package chart holds the tests of the deployment artifacts: the Helm chart
// in charts/bollard and the top-level Dockerfile. They render and lint the
// chart in process with Helm's Go SDK (helm.sh/helm/v4, pinned by go.mod, so
// no helm binary is needed), decode every object strictly into the
// Kubernetes API types, check the hardening the chart promises, compare the
// manifests with golden files (rewritten with -update), and load the
// rendered bollard.yaml with the sidecar's own config.Parse so that the
// chart and the binary cannot drift apart.
package chart
