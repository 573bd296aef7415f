/* A file-heavy run of UnQLite (an embedded key/value and document database with the Jx9 script
 * interpreter), built from its source distribution by bench/real.py. Usage: kvbench DB N
 * N records stored (committed every 500), every one fetched and checked, half deleted, then a Jx9
 * script that builds a document collection of N/10 records and sums a field; prints "ok SUM". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "unqlite.h"

static int fail(unqlite *db, const char *what) {
  const char *msg = 0; int len = 0;
  unqlite_config(db, UNQLITE_CONFIG_ERR_LOG, &msg, &len);
  fprintf(stderr, "kvbench: %s failed: %.*s\n", what, len, msg ? msg : "");
  return 1;
}

static const char *SCRIPT =
  "$n = $argv[0];"
  "if (!db_exists('people')) { db_create('people'); }"
  "for ($i = 0; $i < $n; $i++) { db_store('people', {name: 'person' .. $i, age: $i % 90}); }"
  "$sum = 0;"
  "while (($rec = db_fetch('people')) != NULL) { $sum += $rec.age; }"
  "print $sum;";

static int print_output(const void *out, unsigned int len, void *user) {
  (void)user;
  fwrite(out, 1, len, stdout);
  return UNQLITE_OK;
}

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: kvbench DB N\n"); return 2; }
  long n = atol(argv[2]);
  unqlite *db;
  if (unqlite_open(&db, argv[1], UNQLITE_OPEN_CREATE) != UNQLITE_OK) { fprintf(stderr, "kvbench: open failed\n"); return 1; }
  char key[32], val[128], got[128];
  for (long i = 0; i < n; i++) {
    snprintf(key, sizeof key, "key%ld", i);
    int len = snprintf(val, sizeof val, "value of record %ld, padded to look like a real row......", i);
    if (unqlite_kv_store(db, key, -1, val, len) != UNQLITE_OK) return fail(db, "store");
    if (i % 500 == 499 && unqlite_commit(db) != UNQLITE_OK) return fail(db, "commit");
  }
  if (unqlite_commit(db) != UNQLITE_OK) return fail(db, "commit");
  for (long i = 0; i < n; i++) {
    snprintf(key, sizeof key, "key%ld", i);
    int len = snprintf(val, sizeof val, "value of record %ld, padded to look like a real row......", i);
    unqlite_int64 size = sizeof got;
    if (unqlite_kv_fetch(db, key, -1, got, &size) != UNQLITE_OK) return fail(db, "fetch");
    if (size != len || memcmp(got, val, len)) { fprintf(stderr, "kvbench: record %ld differs\n", i); return 1; }
  }
  for (long i = 0; i < n; i += 2) {
    snprintf(key, sizeof key, "key%ld", i);
    if (unqlite_kv_delete(db, key, -1) != UNQLITE_OK) return fail(db, "delete");
  }
  if (unqlite_commit(db) != UNQLITE_OK) return fail(db, "commit");
  unqlite_vm *vm;
  if (unqlite_compile(db, SCRIPT, -1, &vm) != UNQLITE_OK) return fail(db, "compile");
  char arg[32];
  snprintf(arg, sizeof arg, "%ld", n / 10);
  unqlite_vm_config(vm, UNQLITE_VM_CONFIG_ARGV_ENTRY, arg);
  unqlite_vm_config(vm, UNQLITE_VM_CONFIG_OUTPUT, print_output, 0);
  printf("ok ");
  if (unqlite_vm_exec(vm) != UNQLITE_OK) return fail(db, "exec");
  printf("\n");
  unqlite_vm_release(vm);
  if (unqlite_close(db) != UNQLITE_OK) { fprintf(stderr, "kvbench: close failed\n"); return 1; }
  return 0;
}
