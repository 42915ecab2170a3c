package config

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseArgs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, dir, "conf.d/20-db.conf", "")
	writeFile(t, dir, "conf.d/10-api.conf", "")
	writeFile(t, dir, "conf.d/.hidden.conf", "")
	writeFile(t, dir, "conf.d/notes.txt", "")
	writeFile(t, dir, "conf.d/sub.conf/x.conf", "")
	writeFile(t, dir, "other.d/a.conf", "")
	confD := filepath.Join(dir, "conf.d")
	otherD := filepath.Join(dir, "other.d")

	tests := []struct {
		name      string
		args      []string
		wantFiles []string
		wantRest  []string
		wantErr   string
	}{
		{
			name:     "no options leaves the arguments alone",
			args:     []string{"db", "sync"},
			wantRest: []string{"db", "sync"},
		},
		{
			name:      "--config-file takes the next argument or =value, repeatedly and in order",
			args:      []string{"--config-file", "/a.conf", "db", "--config-file=/b.conf", "sync"},
			wantFiles: []string{"/a.conf", "/b.conf"},
			wantRest:  []string{"db", "sync"},
		},
		{
			name:      "--config-dir adds its *.conf files, sorted, after the files",
			args:      []string{"--config-dir", confD, "--config-file=/a.conf", "--config-dir=" + otherD},
			wantFiles: []string{"/a.conf", filepath.Join(confD, "10-api.conf"), filepath.Join(confD, "20-db.conf"), filepath.Join(otherD, "a.conf")},
		},
		{
			name:      "-- ends option parsing and stays in rest",
			args:      []string{"--config-file=/a.conf", "--", "--config-file", "/b.conf"},
			wantFiles: []string{"/a.conf"},
			wantRest:  []string{"--", "--config-file", "/b.conf"},
		},
		{
			name:     "other flags pass through",
			args:     []string{"--max-count", "5", "--config-files=x"},
			wantRest: []string{"--max-count", "5", "--config-files=x"},
		},
		{
			name:    "--config-file without a value is an error",
			args:    []string{"db", "--config-file"},
			wantErr: "--config-file: expected one argument",
		},
		{
			name:    "--config-file= with an empty value is an error",
			args:    []string{"--config-file="},
			wantErr: "--config-file: expected one argument",
		},
		{
			name:    "a missing --config-dir is an error",
			args:    []string{"--config-dir", filepath.Join(dir, "missing")},
			wantErr: "--config-dir:",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			files, rest, err := ParseArgs(tc.args)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(files, tc.wantFiles) {
				t.Errorf("files = %q, want %q", files, tc.wantFiles)
			}
			if !reflect.DeepEqual(rest, tc.wantRest) {
				t.Errorf("rest = %q, want %q", rest, tc.wantRest)
			}
		})
	}
}

func TestParseArgs_FilesFeedLoad(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	main := writeFile(t, dir, "placement.conf", "[placement]\nallocation_conflict_retry_count = 1\nmax_allocation_candidates = 9\n")
	writeFile(t, dir, "conf.d/override.conf", "[placement]\nallocation_conflict_retry_count = 2\n")
	files, _, err := ParseArgs([]string{"--config-dir", filepath.Join(dir, "conf.d"), "--config-file", main})
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := Load(files, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Placement.AllocationConflictRetryCount != 2 || c.Placement.MaxAllocationCandidates != 9 {
		t.Errorf("retry count %d, max candidates %d; want 2 and 9",
			c.Placement.AllocationConflictRetryCount, c.Placement.MaxAllocationCandidates)
	}
}
