/* obj_int.h — obj.c internals shared with engine/fastdecode.c, so that both
 * decoders use one definition of each rule. Not for other modules. */
#ifndef LB_OBJ_INT_H
#define LB_OBJ_INT_H

struct lb_pod;

/* 1 when a pod annotation key is kept in the compact pod (obj.c). */
int lb__obj_kept_annotation(const char *key);
/* Fills the fields a pod derives from its labels (rev, lc, ...). */
void lb__obj_pod_derive(struct lb_pod *p);

#endif
