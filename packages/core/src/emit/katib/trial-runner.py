# Cellflow Katib trial: one trial is one Kubeflow Pipelines run of the pipeline with the trial's
# parameter values. Starts the run, waits for it, then prints the run's metrics as `name=value`
# lines, which Katib's StdOut metrics collector reads. Standard library only.
#
#   --run-template PATH   JSON body of the KFP v2beta1 CreateRun request (pipeline spec, experiment,
#                         the values of the parameters that are not searched)
#   --kfp-endpoint URL    Kubeflow Pipelines API (default: the in-cluster ml-pipeline service)
#   --namespace NS        the run's namespace (for the pod log of the metrics step)
#   --metrics-task NAME   KFP task whose log carries metric lines (repeat)
#   --metric NAME         a metric to report (repeat; the first is the objective and must be there)
#   --param NAME:TYPE=V   this trial's value of a searched parameter (TYPE: int, float, str, bool)
#   --poll SECONDS        how often to ask KFP for the run's state (default 5)
#
# Exit codes: 0 the run succeeded and reported its metrics, 1 it failed (reason on stderr),
# 143 stopped (the run is terminated first, so no orphan run is left behind).
import json
import os
import re
import signal
import ssl
import sys
import time
import urllib.error
import urllib.request

SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
TERMINAL = {"SUCCEEDED", "FAILED", "CANCELED", "SKIPPED"}
METRIC_LINE = re.compile(r"^([A-Za-z0-9_-]+)=([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)$")


def log(message):
    # Goes to stderr: stdout is for metric lines only, so nothing else can look like a metric.
    sys.stderr.write("cellflow-trial: %s\n" % message)
    sys.stderr.flush()


def parse_args(argv):
    args = {"metric": [], "param": [], "metrics-task": [], "poll": 5.0, "kfp-endpoint": None, "namespace": None}
    i = 0
    while i < len(argv):
        key = argv[i][2:] if argv[i].startswith("--") else None
        if key is None or i + 1 >= len(argv):
            raise SystemExit("cellflow-trial: bad argument %r" % argv[i])
        value = argv[i + 1]
        if key in ("metric", "param", "metrics-task"):
            args[key].append(value)
        elif key == "poll":
            args[key] = float(value)
        else:
            args[key] = value
        i += 2
    return args


def typed(spec):
    name_type, _, raw = spec.partition("=")
    name, _, kind = name_type.partition(":")
    if kind == "int":
        return name, int(float(raw))
    if kind == "float":
        return name, float(raw)
    if kind == "bool":
        return name, raw.strip().lower() in ("true", "1", "yes")
    return name, raw


class Api:
    def __init__(self, base, token_path, ca=None):
        self.base = base.rstrip("/")
        self.token_path = token_path
        self.context = None
        if self.base.startswith("https://"):
            self.context = ssl.create_default_context(cafile=ca if ca and os.path.exists(ca) else None)

    def call(self, method, path, body=None, raw=False):
        headers = {"Accept": "application/json"}
        if self.token_path and os.path.exists(self.token_path):
            with open(self.token_path, encoding="utf-8") as f:
                headers["Authorization"] = "Bearer " + f.read().strip()
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        for attempt in range(6):
            try:
                with urllib.request.urlopen(request, timeout=60, context=self.context) as answer:
                    text = answer.read().decode("utf-8", "replace")
                    return text if raw else (json.loads(text) if text else {})
            except urllib.error.HTTPError as error:
                if error.code in (502, 503, 504) and attempt < 5:
                    time.sleep(2 ** attempt)
                    continue
                detail = error.read().decode("utf-8", "replace")[:500]
                raise RuntimeError("%s %s answered %d: %s" % (method, path, error.code, detail))
            except (urllib.error.URLError, OSError) as error:
                if attempt < 5:
                    time.sleep(2 ** attempt)
                    continue
                raise RuntimeError("%s %s failed: %s" % (method, path, error))


def metrics_from_log(text, wanted):
    found = {}
    for line in text.splitlines():
        m = METRIC_LINE.match(line.strip())
        if m and m.group(1) in wanted:
            found[m.group(1)] = m.group(2)
    return found


def main(argv):
    args = parse_args(argv)
    with open(args["run-template"], encoding="utf-8") as f:
        body = json.load(f)
    params = dict(typed(p) for p in args["param"])
    body.setdefault("runtime_config", {}).setdefault("parameters", {}).update(params)
    trial = os.environ.get("CELLFLOW_TRIAL_NAME") or os.environ.get("HOSTNAME", "trial")
    body["display_name"] = "%s (%s)" % (body.get("display_name", "trial"), trial)
    endpoint = args["kfp-endpoint"] or "http://ml-pipeline.kubeflow.svc.cluster.local:8888"
    kfp = Api(endpoint, os.environ.get("KF_PIPELINES_SA_TOKEN_PATH"))
    run = kfp.call("POST", "/apis/v2beta1/runs", body)
    run_id = run["run_id"]
    log("started run %s with %s" % (run_id, json.dumps(params, sort_keys=True)))

    def stop(signum, _frame):
        log("stopping: terminating run %s" % run_id)
        try:
            kfp.call("POST", "/apis/v2beta1/runs/%s:terminate" % run_id, {})
        finally:
            os._exit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while run.get("state") not in TERMINAL:
        time.sleep(args["poll"])
        run = kfp.call("GET", "/apis/v2beta1/runs/%s" % run_id)
    if run["state"] != "SUCCEEDED":
        error = (run.get("error") or {}).get("message") or "no reason given"
        log("run %s ended %s: %s" % (run_id, run["state"], error))
        return 1
    tasks = (run.get("run_details") or {}).get("task_details") or []
    pods = []
    for task in tasks:
        if task.get("display_name") in args["metrics-task"]:
            pods += [c.get("pod_name") for c in task.get("child_tasks") or [] if c.get("pod_name")]
            if task.get("pod_name"):
                pods.append(task["pod_name"])
    if not pods:
        log("run %s has no pod for task %s, so no metrics" % (run_id, ", ".join(args["metrics-task"])))
        return 1
    kube_host = os.environ.get("KUBERNETES_SERVICE_HOST")
    kube_base = os.environ.get("CELLFLOW_KUBE_API") or (
        "https://%s:%s" % (kube_host, os.environ.get("KUBERNETES_SERVICE_PORT", "443")) if kube_host else None
    )
    if kube_base is None:
        log("not inside a cluster: cannot read the metrics step's log")
        return 1
    kube = Api(
        kube_base,
        os.environ.get("CELLFLOW_KUBE_TOKEN_PATH", SA_DIR + "/token"),
        os.environ.get("CELLFLOW_KUBE_CA", SA_DIR + "/ca.crt"),
    )
    namespace = args["namespace"] or open(SA_DIR + "/namespace", encoding="utf-8").read().strip()
    wanted = set(args["metric"])
    found = {}
    for pod in dict.fromkeys(pods):
        text = kube.call("GET", "/api/v1/namespaces/%s/pods/%s/log?container=main" % (namespace, pod), raw=True)
        found.update(metrics_from_log(text, wanted))
    for name in args["metric"]:
        if name in found:
            print("%s=%s" % (name, found[name]))
    sys.stdout.flush()
    objective = args["metric"][0] if args["metric"] else None
    if objective is not None and objective not in found:
        log("run %s succeeded but did not report the objective %s" % (run_id, objective))
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except RuntimeError as error:
        log(str(error))
        sys.exit(1)
