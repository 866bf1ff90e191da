package transport

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ProtocolVersion is the Jupyter messaging protocol version this kernel speaks.
const ProtocolVersion = "5.3"

// delimiter separates the routing identities from the message proper.
var delimiter = []byte("<IDS|MSG>")

// ErrBadSignature marks a message whose HMAC does not match: it was not
// sent by the client that holds the connection file's key.
var ErrBadSignature = errors.New("bad message signature")

// Header is a message header.
type Header struct {
	MsgID    string `json:"msg_id"`
	Session  string `json:"session"`
	Username string `json:"username"`
	Date     string `json:"date"`
	MsgType  string `json:"msg_type"`
	Version  string `json:"version"`
}

// Message is one Jupyter message. Header is decoded; ParentHeader,
// Metadata and Content stay raw JSON so that they are signed and forwarded
// exactly as they came.
type Message struct {
	Identities   [][]byte // ROUTER routing frames, or the PUB topic
	Header       Header
	ParentHeader json.RawMessage
	Metadata     json.RawMessage
	Content      json.RawMessage
	Buffers      [][]byte

	signature string // as received: what tells a replay from a new message
}

// Signer signs and verifies messages with HMAC-SHA256. A Signer with an
// empty key neither signs nor verifies, as the protocol prescribes.
type Signer struct {
	key []byte
}

// NewSigner returns a Signer for the connection file's key.
func NewSigner(key string) Signer { return Signer{key: []byte(key)} }

// Sign returns the hex signature of the four JSON frames.
func (s Signer) Sign(frames ...[]byte) []byte {
	if len(s.key) == 0 {
		return nil
	}
	mac := hmac.New(sha256.New, s.key)
	for _, f := range frames {
		mac.Write(f)
	}
	sum := mac.Sum(nil)
	out := make([]byte, hex.EncodedLen(len(sum)))
	hex.Encode(out, sum)
	return out
}

// Verify reports whether sig is the signature of the frames, in constant time.
func (s Signer) Verify(sig []byte, frames ...[]byte) bool {
	if len(s.key) == 0 {
		return true
	}
	return hmac.Equal(sig, s.Sign(frames...))
}

// Signs reports whether messages are signed (the connection has a key).
func (s Signer) Signs() bool { return len(s.key) > 0 }

// Decode parses multipart frames into a Message, checking the signature.
func (s Signer) Decode(frames [][]byte) (Message, error) {
	var m Message
	i := 0
	for i < len(frames) && !bytes.Equal(frames[i], delimiter) {
		i++
	}
	if i == len(frames) {
		return m, errors.New("malformed message: no <IDS|MSG> delimiter")
	}
	if len(frames) < i+6 {
		return m, fmt.Errorf("malformed message: %d frames after the delimiter, want at least 5", len(frames)-i-1)
	}
	m.Identities = frames[:i]
	sig, header, parent, meta, content := frames[i+1], frames[i+2], frames[i+3], frames[i+4], frames[i+5]
	if !s.Verify(sig, header, parent, meta, content) {
		return m, ErrBadSignature
	}
	if err := json.Unmarshal(header, &m.Header); err != nil {
		return m, fmt.Errorf("malformed message header: %w", err)
	}
	m.ParentHeader = json.RawMessage(parent)
	m.Metadata = json.RawMessage(meta)
	m.Content = json.RawMessage(content)
	m.Buffers = frames[i+6:]
	m.signature = string(sig)
	return m, nil
}

// Encode turns a Message into signed multipart frames.
func (s Signer) Encode(m Message) ([][]byte, error) {
	header, err := json.Marshal(m.Header)
	if err != nil {
		return nil, err
	}
	parent, meta, content := orEmpty(m.ParentHeader), orEmpty(m.Metadata), orEmpty(m.Content)
	frames := make([][]byte, 0, len(m.Identities)+6+len(m.Buffers))
	frames = append(frames, m.Identities...)
	frames = append(frames, delimiter, s.Sign(header, parent, meta, content), header, parent, meta, content)
	return append(frames, m.Buffers...), nil
}

func orEmpty(b json.RawMessage) []byte {
	if len(b) == 0 {
		return []byte("{}")
	}
	return b
}

// NewMessage returns a message of type msgType in session, replying to
// parent when parent is not nil (its identities are kept, so that a reply
// is routed back to the client that asked), with content marshalled as
// JSON.
func NewMessage(session, msgType string, parent *Message, content any) (Message, error) {
	c, err := json.Marshal(content)
	if err != nil {
		return Message{}, fmt.Errorf("encoding %s content: %w", msgType, err)
	}
	m := Message{
		Header: Header{
			MsgID:    NewID(),
			Session:  session,
			Username: "kernel",
			Date:     time.Now().UTC().Format(time.RFC3339Nano),
			MsgType:  msgType,
			Version:  ProtocolVersion,
		},
		Content: c,
	}
	if parent != nil {
		m.Identities = parent.Identities
		if m.ParentHeader, err = json.Marshal(parent.Header); err != nil {
			return Message{}, err
		}
	}
	return m, nil
}

// NewID returns a random UUID (version 4) as text.
func NewID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
