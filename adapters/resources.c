#include "resources.h"

#include <string.h>

/* Everything the reducers use or will use: core kinds, ControllerRevisions
 * and every kind served by OpenKruise v1.8.4's CRDs (deploy/crds). */
const struct lb_resource lb_resources[] = {
    {"", "v1", "namespaces", "Namespace", 0, 0},
    {"", "v1", "nodes", "Node", 0, 0},
    {"", "v1", "pods", "Pod", 1, 0},
    {"", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", 1, 0},
    {"apps", "v1", "controllerrevisions", "ControllerRevision", 1, 0},
    /* read for PodUnavailableBudget replica counts (kruise-spec §7): the
     * owners of selected pods, and targetRef workloads */
    {"apps", "v1", "deployments", "Deployment", 1, 0},
    {"apps", "v1", "replicasets", "ReplicaSet", 1, 0},
    {"apps", "v1", "statefulsets", "StatefulSet", 1, 0},
    {"apps.kruise.io", "v1alpha1", "clonesets", "CloneSet", 1, 1},
    {"apps.kruise.io", "v1beta1", "statefulsets", "StatefulSet", 1, 1},
    {"apps.kruise.io", "v1alpha1", "daemonsets", "DaemonSet", 1, 1},
    {"apps.kruise.io", "v1alpha1", "sidecarsets", "SidecarSet", 0, 1},
    {"apps.kruise.io", "v1alpha1", "broadcastjobs", "BroadcastJob", 1, 1},
    {"apps.kruise.io", "v1alpha1", "advancedcronjobs", "AdvancedCronJob", 1, 1},
    {"apps.kruise.io", "v1alpha1", "imagepulljobs", "ImagePullJob", 1, 1},
    {"apps.kruise.io", "v1alpha1", "nodeimages", "NodeImage", 0, 1},
    {"apps.kruise.io", "v1alpha1", "containerrecreaterequests",
     "ContainerRecreateRequest", 1, 1},
    {"apps.kruise.io", "v1alpha1", "resourcedistributions",
     "ResourceDistribution", 0, 1},
    {"apps.kruise.io", "v1alpha1", "uniteddeployments", "UnitedDeployment", 1,
     1},
    {"apps.kruise.io", "v1alpha1", "workloadspreads", "WorkloadSpread", 1, 1},
    {"apps.kruise.io", "v1alpha1", "podprobemarkers", "PodProbeMarker", 1, 1},
    {"apps.kruise.io", "v1alpha1", "nodepodprobes", "NodePodProbe", 0, 1},
    {"apps.kruise.io", "v1alpha1", "persistentpodstates", "PersistentPodState",
     1, 1},
    {"policy.kruise.io", "v1alpha1", "podunavailablebudgets",
     "PodUnavailableBudget", 1, 1},
};
const int lb_n_resources = (int)(sizeof lb_resources / sizeof lb_resources[0]);

const struct lb_resource *lb_resource_of(const char *group, const char *kind) {
  for (int i = 0; i < lb_n_resources; i++)
    if (!strcmp(lb_resources[i].group, group ? group : "") &&
        !strcmp(lb_resources[i].kind, kind ? kind : ""))
      return &lb_resources[i];
  return 0;
}
