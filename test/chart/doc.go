// Package chart holds the tests of the deployment artifacts: the Helm chart
// in charts/bollard and the top-level Dockerfile. They render the chart with
// the pinned helm (installed by .ci/install-tools), decode every object
// strictly into the Kubernetes API types, check the hardening the chart
// promises, compare the manifests with golden files (rewritten with
// -update), and load the rendered bollard.yaml with the sidecar's own
// config.Parse so that the chart and the binary cannot drift apart.
package chart
