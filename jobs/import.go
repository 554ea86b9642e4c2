package jobs

import (
	"context"
	"net/netip"
	"net/url"
	"os"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/edgehls/edge/db"
	"github.com/edgehls/edge/internal/apperr"
)

// Importer downloads sources from URLs for a Manager.
type Importer struct {
	Allow    []netip.Prefix // special-purpose addresses edge may fetch from after all (EDGE_IMPORT_ALLOW)
	MaxBytes int64          // the upload size limit, for imports too

	once    sync.Once
	d       *downloader
	mu      sync.Mutex
	base    context.Context
	running map[string]context.CancelFunc
}

// progressEvery is how often an import's progress is written.
const progressEvery = time.Second

func (im *Importer) downloader() *downloader {
	im.once.Do(func() {
		im.d = newDownloader(im.Allow, im.MaxBytes)
		im.running = map[string]context.CancelFunc{}
		im.base = context.Background()
	})
	return im.d
}

// Import makes a stream whose source edge downloads from s.Source, an
// http(s) URL checked up front (a bad one answers 422 and makes nothing).
func (m *Manager) Import(ctx context.Context, s Submission) (*db.Stream, error) {
	if m.Importer == nil {
		return nil, apperr.New(apperr.Invalid, "url: imports are disabled on this server")
	}
	u, err := m.Importer.downloader().checkURL(ctx, s.Source)
	if err != nil {
		return nil, err
	}
	title := strings.TrimSpace(s.Title)
	if title == "" {
		title = strings.TrimSuffix(path.Base(u.Path), path.Ext(u.Path))
		if title == "" || title == "/" || title == "." {
			title = u.Hostname()
		}
	}
	st, err := m.create(ctx, db.NewStream{Title: title, Status: db.StatusUploading, Playback: s.Playback, ImportURL: u.String(), Downloads: m.downloads(s), CreatedBy: s.UserID})
	if err != nil {
		return nil, err
	}
	m.startImport(st.ID, u)
	return st, nil
}

// ResumeImports takes up, under ctx (the server's life), the downloads a
// stop cut short; later imports run under ctx too.
func (m *Manager) ResumeImports(ctx context.Context) error {
	if m.Importer == nil {
		return nil
	}
	m.Importer.downloader()
	m.Importer.mu.Lock()
	m.Importer.base = ctx
	m.Importer.mu.Unlock()
	pending, err := m.DB.PendingImports(ctx)
	if err != nil {
		return err
	}
	for _, st := range pending {
		u, err := url.Parse(st.ImportURL)
		if err != nil {
			m.failImport(ctx, st.ID, apperr.New(apperr.Invalid, "url: not a URL edge can fetch"))
			continue
		}
		m.Log.Info("import taken up again", "stream", st.ID)
		m.startImport(st.ID, u)
	}
	return nil
}

func (m *Manager) startImport(id string, u *url.URL) {
	im := m.Importer
	im.mu.Lock()
	ctx, cancel := context.WithCancel(im.base)
	im.running[id] = cancel
	im.mu.Unlock()
	go func() {
		defer func() {
			im.mu.Lock()
			delete(im.running, id)
			im.mu.Unlock()
			cancel()
		}()
		m.runImport(ctx, id, u)
	}()
}

// cancelImport stops a stream's download, as when the stream is deleted.
func (m *Manager) cancelImport(id string) {
	if m.Importer == nil {
		return
	}
	m.Importer.mu.Lock()
	if cancel := m.Importer.running[id]; cancel != nil {
		cancel()
	}
	m.Importer.mu.Unlock()
}

func (m *Manager) runImport(ctx context.Context, id string, u *url.URL) {
	f, err := os.CreateTemp(m.TempDir, TempPrefix+"import-")
	if err != nil {
		m.Log.Error("stage an import", "stream", id, "err", err)
		m.failImport(ctx, id, err)
		return
	}
	defer os.Remove(f.Name())
	defer f.Close()
	m.Log.Info("import started", "stream", id, "host", u.Hostname())
	name, err := m.Importer.d.fetch(ctx, u, f, m.importProgress(ctx, id))
	if err == nil {
		err = f.Close()
	}
	if ctx.Err() != nil {
		return // a stop (taken up at the next start) or a delete
	}
	if err != nil {
		m.Log.Warn("import failed", "stream", id, "host", u.Hostname(), "err", err)
		m.failImport(ctx, id, err)
		return
	}
	if err := m.AcceptUpload(ctx, FinishedUpload{StreamID: id, Filename: name, LocalPath: f.Name()}); err != nil && ctx.Err() == nil {
		m.Log.Error("store an imported source", "stream", id, "err", err)
		m.failImport(ctx, id, err)
	}
}

// importProgress writes the download's progress at most once a period.
func (m *Manager) importProgress(ctx context.Context, id string) func(have, total int64) {
	var last time.Time
	return func(have, total int64) {
		if total <= 0 || time.Since(last) < progressEvery {
			return
		}
		last = time.Now()
		pct := int(min(99, have*100/total))
		if err := m.DB.SetStreamState(ctx, id, db.StatusUploading, pct, ""); err != nil && ctx.Err() == nil {
			m.Log.Warn("import progress", "stream", id, "err", err)
		}
	}
}

// failImport fails the stream with what its user may read: a refusal's
// message, or a generic one (the cause is logged).
func (m *Manager) failImport(ctx context.Context, id string, err error) {
	msg := "the source could not be downloaded; try again"
	if ae, ok := apperr.As(err); ok {
		msg = strings.TrimPrefix(ae.Message, "url: ")
		msg = "import: " + msg
	}
	if err := m.DB.SetStreamState(context.WithoutCancel(ctx), id, db.StatusFailed, 0, msg); err != nil {
		m.Log.Error("record a failed import", "stream", id, "err", err)
	}
}
