// Package prometheus starts a real Prometheus server for tests: Debian's prometheus on
// 127.0.0.1 and a free port, its TSDB in a temp dir, scraping the targets a test names every
// scrape interval. It does not install the server: `make deps` does (APT_PACKAGES).
package prometheus
