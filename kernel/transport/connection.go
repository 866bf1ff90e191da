package transport

import (
	"encoding/json"
	"fmt"
	"os"
)

// ConnectionInfo is the content of the connection file that Jupyter writes
// before it starts a kernel.
type ConnectionInfo struct {
	Transport       string `json:"transport"` // "tcp"
	IP              string `json:"ip"`
	ShellPort       int    `json:"shell_port"`
	ControlPort     int    `json:"control_port"`
	StdinPort       int    `json:"stdin_port"`
	IOPubPort       int    `json:"iopub_port"`
	HBPort          int    `json:"hb_port"`
	Key             string `json:"key"`
	SignatureScheme string `json:"signature_scheme"` // "hmac-sha256"
	KernelName      string `json:"kernel_name,omitempty"`
}

// ReadConnectionFile reads and checks a connection file. A missing ip means
// loopback (127.0.0.1), a missing transport tcp.
func ReadConnectionFile(path string) (ConnectionInfo, error) {
	var info ConnectionInfo
	b, err := os.ReadFile(path)
	if err != nil {
		return info, fmt.Errorf("reading the connection file: %w (Jupyter passes it as --connection-file)", err)
	}
	if err := json.Unmarshal(b, &info); err != nil {
		return info, fmt.Errorf("connection file %s is not valid JSON: %w", path, err)
	}
	if info.IP == "" {
		info.IP = "127.0.0.1"
	}
	if info.Transport == "" {
		info.Transport = "tcp"
	}
	if err := info.check(); err != nil {
		return info, fmt.Errorf("connection file %s: %w", path, err)
	}
	return info, nil
}

func (c ConnectionInfo) check() error {
	if c.Transport != "tcp" {
		return fmt.Errorf("transport %q is not supported: use tcp", c.Transport)
	}
	if c.SignatureScheme != "" && c.SignatureScheme != "hmac-sha256" {
		return fmt.Errorf("signature_scheme %q is not supported: use hmac-sha256", c.SignatureScheme)
	}
	for name, p := range map[string]int{"shell_port": c.ShellPort, "control_port": c.ControlPort,
		"stdin_port": c.StdinPort, "iopub_port": c.IOPubPort, "hb_port": c.HBPort} {
		if p < 0 || p > 65535 {
			return fmt.Errorf("%s %d is not a TCP port", name, p)
		}
	}
	return nil
}

// endpoint is the ZeroMQ address of one port, as "tcp://IP:PORT". Port 0
// asks the system for a free port.
func (c ConnectionInfo) endpoint(port int) string {
	ip := c.IP
	if ip == "*" || ip == "" {
		ip = "0.0.0.0"
	}
	return fmt.Sprintf("%s://%s:%d", c.Transport, ip, port)
}
