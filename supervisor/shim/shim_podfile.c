/* shim_podfile.c - `--pod-file`: the launcher's part done by the shim
 * itself, for tests and users who start a keeper by hand (shim.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "supervisor/proto/podsnap.h"
#include "supervisor/shim/shim.h"

/* The first pod of the file that o names (as the shim always picked). */
static spec_pod *pick(spec_pod_list *l, const shim_options *o, pv_err *err) {
  for (size_t i = 0; i < l->n; i++) {
    const spec_pod *p = l->items[i];
    if ((o->pod_name == NULL || strcmp(p->name, o->pod_name) == 0) &&
        (o->pod_namespace == NULL || strcmp(p->ns, o->pod_namespace) == 0))
      return spec_pod_list_steal(l, i);
  }
  pv_err_set(err, ENOENT, "%s: no pod %s", o->pod_file, o->pod_name != NULL ? o->pod_name : "");
  return NULL;
}

int shim_prepare_pod_file(shim_options *o, pv_err *err) {
  static char key[PODPATHS_KEY_LEN + 1];
  spec_pod_list l = {0};
  diag_list diags;
  diag_list_init(&diags);
  int rc = spec_parse_file(o->pod_file, 0, &l, &diags);
  if (rc < 0) {
    char msg[512] = "invalid manifest";
    for (size_t i = 0; i < diags.n; i++)
      if (diags.items[i].severity == DIAG_ERROR) {
        diag_format(&diags.items[i], msg, sizeof msg);
        break;
      }
    diag_list_free(&diags);
    spec_pod_list_free(&l);
    return pv_err_set(err, EINVAL, "%s", msg);
  }
  diag_list_free(&diags);
  spec_pod *p = pick(&l, o, err);
  spec_pod_list_free(&l);
  if (p == NULL)
    return -1;
  podpaths pp;
  int fd;
  rc = podsnap_prepare(o->root, o->run_root, p, NULL, !o->new_instance, 2000, &pp, &fd, err);
  spec_pod_free(p);
  if (rc < 0)
    return -1;
  snprintf(key, sizeof key, "%s", pp.key);
  podpaths_free(&pp);
  o->pod_key = key;
  o->lock_fd = fd;
  o->pod_file = NULL;
  return 0;
}
