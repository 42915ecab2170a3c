package e2e

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/openstack-placement-go/placement/internal/testdb"
	"github.com/openstack-placement-go/placement/internal/transfer"
)

// mariaDB is a private MariaDB server started for one test.
type mariaDB struct {
	port int
	sock string
}

// startMariaDB initialises a data directory under a temporary directory
// and runs Debian's mariadbd on a free 127.0.0.1 port and a private socket;
// it is stopped when the test ends, with the server options extra. The
// user placement (password secret) may do anything.
func startMariaDB(t *testing.T, extra ...string) mariaDB {
	t.Helper()
	server := ""
	for _, f := range []string{"/usr/sbin/mariadbd", "/usr/sbin/mysqld"} {
		if _, err := os.Stat(f); err == nil {
			server = f
			break
		}
	}
	install, err := exec.LookPath("mariadb-install-db")
	if server == "" || err != nil {
		t.Fatal("mariadbd or mariadb-install-db missing: make mysql-e2e installs mariadb-server")
	}
	// Socket paths are limited to about 100 bytes: keep the directory short.
	dir, err := os.MkdirTemp("", "pmy")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) }) // runs after the server's cleanup below
	data, sock := filepath.Join(dir, "data"), filepath.Join(dir, "sock")
	var user []string
	if os.Geteuid() == 0 {
		user = []string{"--user=root"}
	}
	out, err := exec.Command(install, append([]string{"--no-defaults", "--datadir=" + data,
		"--auth-root-authentication-method=normal", "--skip-test-db"}, user...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("mariadb-install-db: %v\n%s", err, out)
	}
	port := freeAddr(t).Port
	logFile := filepath.Join(dir, "mariadb.log")
	cmd := exec.Command(server, append([]string{"--no-defaults", "--datadir=" + data, "--socket=" + sock,
		fmt.Sprintf("--port=%d", port), "--bind-address=127.0.0.1", "--skip-name-resolve",
		"--pid-file=" + filepath.Join(dir, "pid"), "--log-error=" + logFile,
		"--innodb-buffer-pool-size=64M", "--innodb-flush-log-at-trx-commit=0", "--skip-log-bin"}, append(user, extra...)...)...)
	start(t, cmd, 20*time.Second, fileText(logFile))
	root, err := sql.Open("mysql", "root@unix("+sock+")/")
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	deadline := time.Now().Add(60 * time.Second)
	for root.Ping() != nil {
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logFile)
			t.Fatalf("MariaDB did not start:\n%s", log)
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, q := range []string{
		"CREATE USER 'placement'@'%' IDENTIFIED BY 'secret'",
		"GRANT ALL ON *.* TO 'placement'@'%'",
	} {
		if _, err := root.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return mariaDB{port: port, sock: sock}
}

// database creates a database and runs the Python service's db sync on it;
// it returns the oslo.db URL.
func (m mariaDB) database(t *testing.T, name string) string {
	t.Helper()
	root, err := sql.Open("mysql", "root@unix("+m.sock+")/")
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	if _, err := root.Exec("CREATE DATABASE " + name + " CHARACTER SET utf8"); err != nil {
		t.Fatal(err)
	}
	u := fmt.Sprintf("mysql+pymysql://placement:secret@127.0.0.1:%d/%s?charset=utf8", m.port, name)
	conf := filepath.Join(t.TempDir(), "placement.conf")
	if err := os.WriteFile(conf, []byte("[placement_database]\nconnection = "+u+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("/usr/bin/placement-manage", "--config-file", conf, "db", "sync").CombinedOutput()
	if err != nil {
		t.Fatalf("Python placement-manage db sync: %v\n%s", err, out)
	}
	return u
}

// mysqlExec runs one statement as MariaDB's root.
func mysqlExec(t *testing.T, m mariaDB, q string) {
	t.Helper()
	root, err := sql.Open("mysql", "root@unix("+m.sock+")/")
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	if _, err := root.Exec(q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// answers GETs every path at 1.39 and returns the statuses and bodies.
func answers(t *testing.T, base string, paths []string) map[string]any {
	t.Helper()
	out := map[string]any{}
	for _, p := range paths {
		req, _ := http.NewRequest("GET", base+p, nil)
		req.Header.Set("x-auth-token", "admin")
		req.Header.Set("openstack-api-version", "placement 1.39")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("GET %s%s: %v", base, p, err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var body any
		if err := json.Unmarshal(data, &body); err != nil {
			t.Fatalf("GET %s%s: %d %q is not JSON", base, p, resp.StatusCode, data)
		}
		out[p] = map[string]any{"status": resp.StatusCode, "body": unordered(body)}
	}
	return out
}

// unordered makes a decoded JSON body comparable across database engines:
// every array is sorted and request ids are dropped. The API leaves the
// order of lists (traits, aggregates, providers, allocation requests and
// their mappings) unspecified; the Python service returns them in the
// order its SQL yields rows, which differs between MySQL and PostgreSQL.
func unordered(v any) any { return sortedArrays(v, "request_id") }

// sameAnswers fails the test for every path answered differently.
func sameAnswers(t *testing.T, what string, want, got map[string]any) {
	t.Helper()
	n := 0
	for p, w := range want {
		if g := got[p]; !reflect.DeepEqual(w, g) {
			wj, _ := json.Marshal(w)
			gj, _ := json.Marshal(g)
			t.Errorf("%s: GET %s differs:\nwant %s\n got %s", what, p, wj, gj)
			n++
		}
	}
	if n == 0 {
		t.Logf("%s: all %d GETs answered alike", what, len(want))
	}
}

// TestMySQLImportExport populates a MariaDB database through the Python
// service, imports it with db import, checks that this service answers every
// GET as the Python service did, writes through this service, exports to a
// fresh MariaDB schema made by Python's db sync, and checks that the Python
// service on the exported database answers as this service did.
func TestMySQLImportExport(t *testing.T) {
	if os.Getenv("PLACEMENT_MYSQL") != "1" {
		t.Skip("PLACEMENT_MYSQL=1 runs the MySQL/MariaDB import and export test (make mysql-e2e)")
	}
	pgDSN := testdb.Empty(t)
	my := startMariaDB(t)
	source := my.database(t, "placement")
	py := pythonOn(t, source)
	c := client{t}

	// Populate through the Python service.
	c.must(py, 201, "POST", "/resource_classes", map[string]any{"name": "CUSTOM_FPGA_X"})
	c.must(py, 201, "PUT", "/traits/CUSTOM_GOLD", nil)
	agg1, agg2 := uuid.NewString(), uuid.NewString()
	rp := map[string]string{}
	create := func(name, parent string) string {
		id := uuid.NewString()
		body := map[string]any{"name": name, "uuid": id}
		if parent != "" {
			body["parent_provider_uuid"] = rp[parent]
		}
		c.must(py, 200, "POST", "/resource_providers", body)
		rp[name] = id
		return id
	}
	gen := func(name string) any {
		return c.must(py, 200, "GET", "/resource_providers/"+rp[name], nil)["generation"]
	}
	inv := func(name string, inventories map[string]any) {
		c.must(py, 200, "PUT", "/resource_providers/"+rp[name]+"/inventories",
			map[string]any{"resource_provider_generation": gen(name), "inventories": inventories})
	}
	create("gone", "")
	create("cn1", "")
	create("numa0", "cn1")
	create("fpga0", "numa0")
	create("cn-é", "")
	create("shared-disk", "")
	c.must(py, 204, "DELETE", "/resource_providers/"+rp["gone"], nil)
	delete(rp, "gone")
	inv("cn1", map[string]any{
		"VCPU":      map[string]any{"total": 16, "allocation_ratio": 16.0},
		"MEMORY_MB": map[string]any{"total": 32768, "reserved": 512, "allocation_ratio": 1.5},
		"DISK_GB":   map[string]any{"total": 1000, "min_unit": 5, "max_unit": 500, "step_size": 5}})
	inv("numa0", map[string]any{"VCPU": map[string]any{"total": 8}, "CUSTOM_FPGA_X": map[string]any{"total": 2}})
	inv("fpga0", map[string]any{"CUSTOM_FPGA_X": map[string]any{"total": 4, "reserved": 1}})
	inv("cn-é", map[string]any{"VCPU": map[string]any{"total": 8, "allocation_ratio": 1.1},
		"MEMORY_MB": map[string]any{"total": 4096}})
	inv("shared-disk", map[string]any{"DISK_GB": map[string]any{"total": 20000, "allocation_ratio": 1.0}})
	c.must(py, 200, "PUT", "/resource_providers/"+rp["cn1"]+"/traits", map[string]any{
		"resource_provider_generation": gen("cn1"), "traits": []string{"HW_CPU_X86_AVX2", "CUSTOM_GOLD"}})
	c.must(py, 200, "PUT", "/resource_providers/"+rp["shared-disk"]+"/traits", map[string]any{
		"resource_provider_generation": gen("shared-disk"), "traits": []string{"MISC_SHARES_VIA_AGGREGATE"}})
	c.must(py, 200, "PUT", "/resource_providers/"+rp["cn1"]+"/aggregates", map[string]any{
		"resource_provider_generation": gen("cn1"), "aggregates": []string{agg1, agg2}})
	c.must(py, 200, "PUT", "/resource_providers/"+rp["shared-disk"]+"/aggregates", map[string]any{
		"resource_provider_generation": gen("shared-disk"), "aggregates": []string{agg1}})
	p1, p2, u1, u2 := uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()
	consumers := []string{uuid.NewString(), uuid.NewString(), uuid.NewString()}
	alloc := func(consumer, project, user, ctype string, allocs map[string]map[string]int) {
		a := map[string]any{}
		for name, res := range allocs {
			a[rp[name]] = map[string]any{"resources": res}
		}
		c.must(py, 204, "PUT", "/allocations/"+consumer, map[string]any{"allocations": a,
			"project_id": project, "user_id": user, "consumer_generation": nil, "consumer_type": ctype})
	}
	alloc(consumers[0], p1, u1, "INSTANCE", map[string]map[string]int{"cn1": {"VCPU": 2, "MEMORY_MB": 1024}, "shared-disk": {"DISK_GB": 10}})
	alloc(consumers[1], p2, u1, "MIGRATION", map[string]map[string]int{"cn-é": {"VCPU": 1}})
	alloc(consumers[2], p1, u2, "INSTANCE", map[string]map[string]int{"numa0": {"VCPU": 1}, "fpga0": {"CUSTOM_FPGA_X": 1}})

	paths := func() []string {
		ps := []string{
			"/resource_providers", "/resource_providers?in_tree=" + rp["cn1"], "/resource_providers?member_of=" + agg1,
			"/resource_providers?required=CUSTOM_GOLD", "/resource_providers?resources=VCPU:1",
			"/resource_providers?resources=CUSTOM_FPGA_X:1", "/resource_providers?name=cn-%C3%A9",
			"/resource_classes", "/resource_classes/CUSTOM_FPGA_X", "/traits", "/traits?name=startswith:CUSTOM",
			"/usages?project_id=" + p1, "/usages?project_id=" + p1 + "&user_id=" + u1,
			"/usages?project_id=" + p2 + "&consumer_type=MIGRATION", "/usages?project_id=" + p1 + "&consumer_type=all",
			"/allocation_candidates?resources=VCPU:1,MEMORY_MB:512",
			"/allocation_candidates?resources=VCPU:1,DISK_GB:5&member_of=" + agg1,
			"/allocation_candidates?resources_A=VCPU:1&resources_B=CUSTOM_FPGA_X:1&same_subtree=_A,_B&group_policy=none",
			"/allocation_candidates?resources=VCPU:1&required=!CUSTOM_GOLD&limit=2",
		}
		for _, id := range rp {
			for _, sub := range []string{"", "/inventories", "/inventories/VCPU", "/traits", "/aggregates", "/usages", "/allocations"} {
				ps = append(ps, "/resource_providers/"+id+sub)
			}
		}
		for _, id := range consumers {
			ps = append(ps, "/allocations/"+id)
		}
		return ps
	}
	ctx := context.Background()
	var out bytes.Buffer
	defer func() { t.Logf("placement-manage output:\n%s", out.String()) }()

	// The Python service on MySQL takes a NUL in a name, which PostgreSQL
	// cannot store: even the dry run lists it before anything is written.
	nul := uuid.NewString()
	c.must(py, 200, "POST", "/resource_providers", map[string]any{"name": "nul\x00name", "uuid": nul})
	err := transfer.Import(ctx, source, pgDSN, transfer.Options{DryRun: true, Out: &out})
	if err == nil || !strings.Contains(err.Error(), `resource_providers.name of id `) || !strings.Contains(err.Error(), `: "nul\x00name"`) {
		t.Fatalf("import of a name with a NUL: %v, want the row listed", err)
	}
	c.must(py, 200, "PUT", "/resource_providers/"+nul, map[string]any{"name": "nul-renamed"})
	want := answers(t, py, paths())

	// A timestamp edited by hand to MySQL's zero date (MariaDB's default
	// sql_mode takes it) is imported as NULL, and the dry run says so.
	mysqlExec(t, my, "UPDATE placement.resource_providers SET updated_at = '0000-00-00 00:00:00' WHERE name = 'cn1'")
	zeroNote := "resource_providers: 1 zero dates (0000-00-00, which PostgreSQL cannot hold)"

	// A dry run changes nothing: the target stays without a schema.
	if err := transfer.Import(ctx, source, pgDSN, transfer.Options{DryRun: true, Out: &out}); err != nil {
		t.Fatalf("dry run: %v", err)
	}
	if !strings.Contains(out.String(), zeroNote+" would become NULL") {
		t.Error("the dry run does not count the zero date")
	}
	if hasSchema(t, pgDSN) {
		t.Fatal("the dry run created the schema")
	}
	if err := transfer.Import(ctx, source, pgDSN, transfer.Options{Out: &out, ProgressEvery: 100}); err != nil {
		t.Fatalf("import: %v", err)
	}
	if !strings.Contains(out.String(), "import complete and verified") || !strings.Contains(out.String(), "  traits: 100/") {
		t.Errorf("import output lacks the verification or the progress lines")
	}
	if !strings.Contains(out.String(), zeroNote+" became NULL") {
		t.Error("the import does not count the zero date")
	}
	if err := transfer.Import(ctx, source, pgDSN, transfer.Options{Out: &out}); !errors.Is(err, transfer.ErrNotEmpty) {
		t.Fatalf("a second import without --force: %v, want ErrNotEmpty", err)
	}
	// Upstream master's head only drops redundant indexes: a source at
	// a082b8bb98d0 imports alike. This time through the command line.
	mysqlExec(t, my, "UPDATE placement.alembic_version SET version_num = 'a082b8bb98d0'")
	bin := filepath.Join(t.TempDir(), "placement-manage")
	if b, err := exec.Command("go", "build", "-o", bin, "../../cmd/placement-manage").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	conf := filepath.Join(t.TempDir(), "placement.conf")
	if err := os.WriteFile(conf, []byte("[placement_database]\nconnection = "+pgDSN+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cli, err := exec.Command(bin, "--config-file", conf, "db", "import", "--from", source, "--force").CombinedOutput()
	out.Write(cli)
	if err != nil {
		t.Fatalf("placement-manage db import --force: %v", err)
	}
	if !strings.Contains(string(cli), "alembic revision a082b8bb98d0") || !strings.Contains(string(cli), "import complete and verified") {
		t.Error("the command's output lacks the revision or the verification")
	}
	if st, err := exec.Command(bin, "--config-file", conf, "status").CombinedOutput(); err != nil {
		t.Errorf("placement-manage status after the import: %v\n%s", err, st)
	}

	ourURL := ours(t, pgDSN, true)
	sameAnswers(t, "this service after the import", want, answers(t, ourURL, paths()))

	// Write through this service: new ids must follow the imported ones.
	consumers = append(consumers, uuid.NewString())
	c.must(ourURL, 204, "PUT", "/allocations/"+consumers[3], map[string]any{
		"allocations": map[string]any{rp["cn-é"]: map[string]any{"resources": map[string]int{"VCPU": 2, "MEMORY_MB": 100}}},
		"project_id":  uuid.NewString(), "user_id": u2, "consumer_generation": nil, "consumer_type": "INSTANCE"})
	c.must(ourURL, 201, "POST", "/resource_classes", map[string]any{"name": "CUSTOM_AFTER"})
	rp["late"] = uuid.NewString()
	c.must(ourURL, 200, "POST", "/resource_providers", map[string]any{"name": "late", "uuid": rp["late"], "parent_provider_uuid": rp["cn-é"]})
	want = answers(t, ourURL, paths())

	target := my.database(t, "placement_rollback")
	if err := transfer.Export(ctx, pgDSN, target, transfer.Options{Out: &out}); err != nil {
		t.Fatalf("export: %v", err)
	}
	if !strings.Contains(out.String(), "export complete and verified") {
		t.Error("export output lacks the verification")
	}
	if err := transfer.Export(ctx, pgDSN, target, transfer.Options{Out: &out}); !errors.Is(err, transfer.ErrNotEmpty) {
		t.Fatalf("a second export without --force: %v, want ErrNotEmpty", err)
	}
	pyBack := pythonOn(t, target)
	sameAnswers(t, "the Python service after the export", want, answers(t, pyBack, paths()))

	// Names PostgreSQL keeps apart and MySQL's collation would not: the
	// export lists them all before it writes anything.
	for _, name := range []string{"CN1", "cn1 ", "CN-E"} {
		c.must(ourURL, 200, "POST", "/resource_providers", map[string]any{"name": name, "uuid": uuid.NewString()})
	}
	err = transfer.Export(ctx, pgDSN, target, transfer.Options{Out: &out, Force: true})
	if err == nil || !strings.Contains(err.Error(), "resource_providers.name: 'CN-E', 'cn-é'") ||
		!strings.Contains(err.Error(), "resource_providers.name: 'CN1', 'cn1', 'cn1 '") {
		t.Errorf("export with names MySQL takes for one: %v, want both groups listed", err)
	}
	sameAnswers(t, "the Python service after a refused export", want, answers(t, pyBack, paths()))
}

// hasSchema reports whether dsn's database has Placement tables.
func hasSchema(t *testing.T, dsn string) bool {
	t.Helper()
	ctx := context.Background()
	conn := testdb.Connect(t, dsn)
	defer conn.Close(ctx)
	var ok bool
	if err := conn.QueryRow(ctx, "SELECT to_regclass('resource_providers') IS NOT NULL").Scan(&ok); err != nil {
		t.Fatal(err)
	}
	return ok
}
