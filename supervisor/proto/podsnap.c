/* podsnap.c - a pod's snapshot and the lock of its run directory (podsnap.h). */
#include "supervisor/proto/podsnap.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "supervisor/core/resource.h"
#include "supervisor/core/util.h"
#include "supervisor/proto/podjson.h"

long podsnap_read_pid(const podpaths *pp) {
  char *buf = NULL;
  if (pv_read_file(pp->pid_file, &buf, NULL, NULL) < 0)
    return 0;
  long pid = strtol(buf, NULL, 10);
  free(buf);
  return pid > 0 ? pid : 0;
}

static int already_kept(const podpaths *pp, const char *what, pv_err *err) {
  long pid = podsnap_read_pid(pp);
  if (pid > 0)
    return pv_err_set(err, EWOULDBLOCK, "pod %s is already kept by shim %ld", what, pid);
  return pv_err_set(err, EWOULDBLOCK, "pod %s is already kept by another shim", what);
}

int podsnap_lock(const podpaths *pp, const char *what, int *fd, pv_err *err) {
  *fd = -1;
  for (int tries = 0;; tries++) {
    if (tries == 10)
      return pv_err_set(err, EAGAIN, "pod %s: %s keeps being removed", what, pp->lock);
    if (pv_mkdir_p(pp->run_dir, 0700, err) < 0)
      return -1;
    int f;
    do
      f = open(pp->lock, O_CREAT | O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0600);
    while (f < 0 && errno == EINTR);
    if (f < 0 && errno == ENOENT)
      continue; /* the run dir was removed by a keeper that just stopped */
    if (f < 0)
      return pv_err_sys(err, "pod %s: open %s", what, pp->lock);
    int rc;
    do
      rc = flock(f, LOCK_EX | LOCK_NB);
    while (rc < 0 && errno == EINTR);
    if (rc < 0) {
      int e = errno;
      close(f);
      if (e == EWOULDBLOCK)
        return already_kept(pp, what, err);
      errno = e;
      return pv_err_sys(err, "pod %s: lock %s", what, pp->lock);
    }
    /* A keeper that stopped meanwhile unlinked the file we locked. */
    struct stat held, named;
    if (fstat(f, &held) == 0 && stat(pp->lock, &named) == 0 && held.st_dev == named.st_dev &&
        held.st_ino == named.st_ino) {
      *fd = f;
      return 0;
    }
    close(f);
  }
}

int podsnap_lock_wait(const podpaths *pp, const char *what, unsigned wait_ms, int *fd, pv_err *err) {
  for (unsigned waited = 0;; waited += 50) {
    if (podsnap_lock(pp, what, fd, err) == 0)
      return 0;
    if (errno != EWOULDBLOCK || waited >= wait_ms)
      return -1;
    struct timespec ts = {.tv_sec = 0, .tv_nsec = 50 * 1000000L};
    nanosleep(&ts, NULL);
  }
}

int podsnap_read_uid(const podpaths *pp, char uid[PODPATHS_UID_MAX + 1]) {
  json_t *j = json_load_file(pp->snapshot, 0, NULL);
  const char *u = json_string_value(json_object_get(json_object_get(j, "metadata"), "uid"));
  int rc = -1;
  if (podpaths_uid_is_valid(u)) {
    snprintf(uid, PODPATHS_UID_MAX + 1, "%s", u);
    rc = 0;
  }
  json_decref(j);
  return rc;
}

int podsnap_read_cgroup(const podpaths *pp, char uid[PODPATHS_UID_MAX + 1], char *parent, size_t size) {
  json_t *j = json_load_file(pp->cgroup_file, 0, NULL);
  const char *u = json_string_value(json_object_get(j, "uid"));
  const char *p = json_string_value(json_object_get(j, "cgroupParent"));
  int rc = -1;
  if (podpaths_uid_is_valid(u) && p != NULL && resource_manager_check_parent(p, NULL) == 0 &&
      strlen(p) < size) {
    snprintf(uid, PODPATHS_UID_MAX + 1, "%s", u);
    snprintf(parent, size, "%s", p);
    rc = 0;
  }
  json_decref(j);
  return rc;
}

int podsnap_write_cgroup(const podpaths *pp, const char *uid, const char *parent, pv_err *err) {
  json_t *j = json_pack("{s:s,s:s}", "uid", uid, "cgroupParent", parent);
  char *text = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
  json_decref(j);
  if (text == NULL)
    return pv_err_set(err, ENOMEM, "%s: out of memory", pp->cgroup_file);
  int rc = pv_write_file_atomic(pp->cgroup_file, text, strlen(text), 0644, err);
  free(text);
  return rc;
}

int podsnap_choose_uid(const podpaths *pp, const spec_pod *p, bool keep, char uid[PODPATHS_UID_MAX + 1],
                       pv_err *err) {
  if (p->uid != NULL) {
    if (!podpaths_uid_is_valid(p->uid))
      return pv_err_set(err, EINVAL, "pod %s/%s: metadata.uid '%.80s' is not a DNS-1123 label", p->ns,
                        p->name, p->uid);
    snprintf(uid, PODPATHS_UID_MAX + 1, "%s", p->uid);
    return 0;
  }
  if (keep && podsnap_read_uid(pp, uid) == 0)
    return 0;
  return podpaths_new_uid(uid, err);
}

static bool same_hashes(const spec_pod *a, const spec_pod *b) {
  if (strcmp(a->hash, b->hash) != 0 || strcmp(a->sandbox_hash, b->sandbox_hash) != 0 ||
      a->n_init_containers != b->n_init_containers || a->n_containers != b->n_containers)
    return false;
  for (size_t i = 0; i < a->n_init_containers; i++)
    if (strcmp(a->init_containers[i].hash, b->init_containers[i].hash) != 0)
      return false;
  for (size_t i = 0; i < a->n_containers; i++)
    if (strcmp(a->containers[i].hash, b->containers[i].hash) != 0)
      return false;
  return true;
}

char *podsnap_render(const spec_pod *p, const char *uid, size_t *len, pv_err *err) {
  spec_pod with_uid = *p; /* shallow: podjson only reads it */
  with_uid.uid = (char *)uid;
  char *text = podjson_pod_text(&with_uid, err);
  if (text == NULL)
    return NULL;
  spec_pod_list back = {0};
  diag_list diags;
  diag_list_init(&diags);
  int rc = spec_parse_buffer("pod.json", text, strlen(text), 0, &back, &diags);
  bool ok = rc == 0 && back.n == 1 && same_hashes(p, back.items[0]) && back.items[0]->uid != NULL &&
            strcmp(back.items[0]->uid, uid) == 0;
  if (!ok) {
    char msg[512] = "it reads back as another pod";
    if (diags.n > 0)
      diag_format(&diags.items[0], msg, sizeof msg);
    pv_err_set(err, EINVAL, "pod %s/%s: snapshot does not round-trip: %s", p->ns, p->name, msg);
    free(text);
    text = NULL;
  } else if (len != NULL) {
    *len = strlen(text);
  }
  spec_pod_list_free(&back);
  diag_list_free(&diags);
  return text;
}

int podsnap_write(const podpaths *pp, const spec_pod *p, const char *uid, pv_err *err) {
  size_t len;
  char *text = podsnap_render(p, uid, &len, err);
  if (text == NULL)
    return -1;
  int rc = pv_write_file_atomic(pp->snapshot, text, len, 0600, err);
  free(text);
  return rc;
}

int podsnap_load(const char *path, spec_pod **out, pv_err *err) {
  *out = NULL;
  spec_pod_list l = {0};
  diag_list diags;
  diag_list_init(&diags);
  int rc = spec_parse_file(path, 0, &l, &diags);
  if (rc < 0 || l.n != 1) {
    char msg[512] = "not exactly one pod";
    for (size_t i = 0; i < diags.n; i++)
      if (diags.items[i].severity == DIAG_ERROR) {
        diag_format(&diags.items[i], msg, sizeof msg);
        break;
      }
    pv_err_set(err, EINVAL, "snapshot %s: %s", path, msg);
  } else if (!podpaths_uid_is_valid(l.items[0]->uid)) {
    pv_err_set(err, EINVAL, "snapshot %s: no valid metadata.uid", path);
  } else {
    *out = spec_pod_list_steal(&l, 0);
  }
  spec_pod_list_free(&l);
  diag_list_free(&diags);
  return *out != NULL ? 0 : -1;
}

void podsnap_abandon(const podpaths *pp, int lock_fd) {
  struct stat st;
  (void)unlink(pp->snapshot);
  if (stat(pp->shim_log, &st) == 0 && st.st_size == 0)
    (void)unlink(pp->shim_log);
  /* Only the lock left: the directory goes too (a status of an earlier
   * instance keeps it). */
  DIR *d = opendir(pp->run_dir);
  struct dirent *e;
  bool others = false;
  while (d != NULL && (e = readdir(d)) != NULL)
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 && strcmp(e->d_name, "shim.lock") != 0)
      others = true;
  if (d != NULL)
    closedir(d);
  if (!others) {
    (void)unlink(pp->lock);
    (void)rmdir(pp->run_dir);
  }
  if (lock_fd >= 0)
    close(lock_fd);
}

/* p == NULL: the keeper runs the snapshot already in the run directory
 * (a keeper restarted for its pod keeps the instance and every update). */
static int prepare_again(const char *root, podpaths *pp, int *lock_fd, unsigned wait_ms, pv_err *err) {
  char what[64];
  snprintf(what, sizeof what, "with key %s", pp->key);
  if (podsnap_lock_wait(pp, what, wait_ms, lock_fd, err) < 0)
    return -1;
  spec_pod *snap = NULL;
  if (podsnap_load(pp->snapshot, &snap, err) < 0)
    return -1;
  char key[PODPATHS_KEY_LEN + 1];
  spec_pod_key(snap, key);
  int rc = strcmp(key, pp->key) != 0 ? pv_err_set(err, EINVAL, "snapshot %s: pod %s/%s does not belong here",
                                                  pp->snapshot, snap->ns, snap->name)
                                     : podpaths_set_instance(pp, root, snap->ns, snap->name, snap->uid, err);
  spec_pod_free(snap);
  return rc;
}

int podsnap_prepare(const char *root, const char *run_root, const spec_pod *p, const char *key, bool keep,
                    unsigned wait_ms, podpaths *pp, int *lock_fd, pv_err *err) {
  char what[320], uid[PODPATHS_UID_MAX + 1];
  *lock_fd = -1;
  if (p == NULL) {
    if (podpaths_init(pp, run_root, key, err) < 0)
      return -1;
    if (prepare_again(root, pp, lock_fd, wait_ms, err) < 0)
      goto fail;
    return 0;
  }
  snprintf(what, sizeof what, "%s/%s", p->ns, p->name);
  if (podpaths_for_pod(pp, root, run_root, p, err) < 0)
    return -1;
  if (podsnap_lock_wait(pp, what, wait_ms, lock_fd, err) < 0)
    goto fail;
  if (podsnap_choose_uid(pp, p, keep, uid, err) < 0 ||
      podpaths_set_instance(pp, root, p->ns, p->name, uid, err) < 0 || podsnap_write(pp, p, uid, err) < 0)
    goto fail;
  return 0;
fail:
  if (*lock_fd >= 0)
    close(*lock_fd);
  *lock_fd = -1;
  podpaths_free(pp);
  return -1;
}
