"""Drives the upstream KFP SDK (2.17.0, from ../shared/kfp-sdk) over pipelines Cellflow compiled.

Run with Debian's /usr/bin/python3 and PYTHONPATH pointing at the SDK's sources:

  kfp-sdk-driver.py compile REPORT.json PIPELINE.yaml...
      Loads each file with kfp.components.load_component_from_file, calls it inside an SDK
      pipeline and compiles that with kfp.compiler.Compiler. Prints one JSON object per file: the
      loaded component's name and inputs, and the compiled pipeline's executors and the task
      names of the nested pipeline's DAG.

  kfp-sdk-driver.py wrap OUT.yaml PIPELINE.yaml ARGUMENTS_JSON
      Compiles an SDK pipeline that calls the loaded pipeline with constant arguments: the loaded
      pipeline becomes a nested DAG component fed by `runtimeValue.constant` task inputs.

  kfp-sdk-driver.py run REPORT.json PIPELINE.yaml WORKDIR [ARGUMENTS_JSON]
      Runs the pipeline on this machine through KFP's own code: tasks in topological order per DAG
      (kfp.local.graph_utils), task arguments from constants, parent inputs and upstream outputs
      (kfp.local's OrchestratorUtils and IOStore), the executor input (executor_input_utils), the
      container's command and args with placeholders resolved (placeholder_utils), the command run
      with /usr/bin/python3 for `python3`. Nested DAG components run recursively and hand back
      their dagOutputs. After a container exits, every declared output artifact is registered as
      the backend's launcher does: the executor input's artifact (URI = the local path), with the
      metadata the executor output gives for it. Prints a JSON report of every task's outputs.
      A task that fails ends the run: the report lists it with its exit code and no artifacts (KFP
      keeps none of a failed task) and the driver exits with 3.
"""

import json
import os
import subprocess
import sys
import tempfile

import yaml
from google.protobuf import json_format
from kfp import compiler, components, dsl
from kfp.local import executor_input_utils, executor_output_utils, graph_utils, io, placeholder_utils
from kfp.local.orchestrator.orchestrator_utils import OrchestratorUtils
from kfp.pipeline_spec import pipeline_spec_pb2

PYTHON = "/usr/bin/python3"


def compile_inside_sdk_pipeline(path, out, arguments=None):
    component = components.load_component_from_file(path)

    @dsl.pipeline(name="cellflow-in-sdk")
    def wrapper():
        component(**(arguments or {}))

    compiler.Compiler().compile(wrapper, out)
    return component


def report_sdk_compile(path):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "compiled.yaml")
        component = compile_inside_sdk_pipeline(path, out)
        with open(out, encoding="utf-8") as f:
            documents = [d for d in yaml.safe_load_all(f) if d is not None]
    compiled = documents[0]
    platform = documents[1] if len(documents) > 1 else None
    root_tasks = compiled["root"]["dag"]["tasks"]
    (only_task,) = root_tasks.values()
    nested = compiled["components"][only_task["componentRef"]["name"]]
    return {
        "file": path,
        "name": component.name,
        "inputs": sorted((component.component_spec.inputs or {}).keys()),
        "nestedTasks": sorted(nested["dag"]["tasks"].keys()),
        "executors": compiled["deploymentSpec"]["executors"],
        "platform": platform,
    }


def load_pipeline_spec(path):
    with open(path, encoding="utf-8") as f:
        documents = [d for d in yaml.safe_load_all(f) if d is not None]
    return json_format.ParseDict(documents[0], pipeline_spec_pb2.PipelineSpec())


class LocalPipeline:
    def __init__(self, spec, workdir):
        self.spec = spec
        self.components = spec.components
        self.executors = spec.deployment_spec["executors"]
        self.pipeline_root = os.path.join(workdir, "pipeline-root")
        self.resource_name = executor_input_utils.get_local_pipeline_resource_name(
            spec.pipeline_info.name
        )
        self.job_id = placeholder_utils.make_random_id()
        self.report = []

    def run_dag(self, dag_component, arguments, path):
        """Runs one DAG component; returns its dagOutputs. A nested DAG sees only its own inputs,
        as on the backend (no reach into an enclosing DAG's tasks)."""
        store = io.IOStore()
        for key, value in OrchestratorUtils.join_user_inputs_and_defaults(
            arguments, dag_component.input_definitions
        ).items():
            store.put_parent_input(key, value)
        tasks = dag_component.dag.tasks
        for task_name in reversed(graph_utils.topological_sort(dependencies(tasks))):
            task = tasks[task_name]
            if task.WhichOneof("iterator") is not None or task.trigger_policy.condition:
                raise SystemExit(f"task {task_name}: loops and conditions are not run here")
            component = self.components[task.component_ref.name]
            task_arguments = OrchestratorUtils.make_task_arguments(task.inputs, store)
            task_path = path + [task_name]
            if component.WhichOneof("implementation") == "dag":
                outputs = self.run_dag(component, task_arguments, task_path)
            else:
                outputs = self.run_container(component, task_arguments, task_path)
            for key, value in outputs.items():
                store.put_task_output(task_name, key, value)
        return OrchestratorUtils.get_dag_outputs(dag_component.dag.outputs, store)

    def run_container(self, component, arguments, task_path):
        label = component.executor_label
        executor = json_format.MessageToDict(self.executors[label])
        if "container" not in executor:
            raise SystemExit(f"executor {label}: only container executors are run here")
        container = executor["container"]
        task_resource_name = ".".join(task_path)
        task_root = executor_input_utils.construct_local_task_root(
            self.pipeline_root, self.resource_name, task_resource_name
        )
        os.makedirs(task_root, exist_ok=True)
        executor_input = executor_input_utils.construct_executor_input(
            component, arguments, task_root, block_input_artifact=False
        )
        executor_input_dict = executor_input_utils.executor_input_to_dict(executor_input, component)
        command = placeholder_utils.replace_placeholders(
            full_command=list(container.get("command", [])) + list(container.get("args", [])),
            executor_input_dict=executor_input_dict,
            pipeline_resource_name=self.resource_name,
            task_resource_name=task_resource_name,
            pipeline_root=self.pipeline_root,
            unique_pipeline_id=self.job_id,
        )
        if command and command[0] in ("python3", "python"):
            command[0] = PYTHON
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        for variable in container.get("env", []):
            env[variable["name"]] = variable.get("value", "")
        log_path = os.path.join(task_root, "log.txt")
        with open(log_path, "wb") as log:
            exit_code = subprocess.call(command, cwd=task_root, env=env, stdout=log, stderr=subprocess.STDOUT)
        if exit_code != 0:
            with open(log_path, encoding="utf-8", errors="replace") as f:
                sys.stderr.write(f.read()[-6000:])
            # As KFP's launcher: a failed task's output artifacts are not registered.
            self.report.append({"task": "/".join(task_path), "executor": label, "command": command[:3], "exitCode": exit_code, "artifacts": {}})
            raise TaskFailed(f"task {'/'.join(task_path)} exited with {exit_code}")

        executor_output = executor_output_utils.load_executor_output(executor_input.outputs.output_file)
        outputs = executor_output_utils.get_outputs_from_executor_output(
            executor_output, executor_input, component
        )
        registered = {}
        for name, declared in executor_input.outputs.artifacts.items():
            artifact = pipeline_spec_pb2.RuntimeArtifact()
            artifact.CopyFrom(declared.artifacts[0])
            written = executor_output.artifacts.get(name)
            if written is not None and written.artifacts:
                artifact.metadata.update(json_format.MessageToDict(written.artifacts[0].metadata))
            outputs[name] = executor_output_utils.runtime_artifact_to_dsl_artifact(artifact)
            registered[name] = {
                "type": artifact.type.schema_title,
                "uri": artifact.uri,
                "exists": os.path.exists(artifact.uri),
                "metadata": json_format.MessageToDict(artifact.metadata),
            }
        self.report.append(
            {
                "task": "/".join(task_path),
                "executor": label,
                "command": command[:3],
                "parameters": executor_input_dict.get("inputs", {}).get("parameterValues", {}),
                "artifacts": registered,
                "outputParameters": {
                    k: v for k, v in outputs.items() if not isinstance(v, dsl.Artifact)
                },
            }
        )
        return outputs


class TaskFailed(Exception):
    """A task's command failed: the run stops there, as KFP stops a DAG at a failed task."""


def dependencies(tasks):
    """Upstream tasks of each task: its dependentTasks and the producers of its inputs."""
    result = {}
    for name, task in tasks.items():
        upstream = set(task.dependent_tasks)
        for spec in task.inputs.parameters.values():
            if spec.HasField("task_output_parameter"):
                upstream.add(spec.task_output_parameter.producer_task)
        for spec in task.inputs.artifacts.values():
            if spec.HasField("task_output_artifact"):
                upstream.add(spec.task_output_artifact.producer_task)
        result[name] = sorted(upstream)
    return result


def main(argv):
    if len(argv) >= 3 and argv[0] == "compile":
        report = [report_sdk_compile(path) for path in argv[2:]]
    elif len(argv) == 4 and argv[0] == "wrap":
        compile_inside_sdk_pipeline(argv[2], argv[1], json.loads(argv[3]))
        return
    elif len(argv) in (4, 5) and argv[0] == "run":
        spec = load_pipeline_spec(argv[2])
        pipeline = LocalPipeline(spec, argv[3])
        try:
            outputs = pipeline.run_dag(spec.root, json.loads(argv[4]) if len(argv) == 5 else {}, [])
        except TaskFailed as failed:
            with open(argv[1], "w", encoding="utf-8") as f:
                json.dump({"tasks": pipeline.report, "failed": str(failed)}, f, default=str)
            raise SystemExit(3)
        report = {"tasks": pipeline.report, "pipelineOutputs": sorted(outputs.keys())}
    else:
        raise SystemExit(__doc__)
    with open(argv[1], "w", encoding="utf-8") as f:
        json.dump(report, f, default=str)


if __name__ == "__main__":
    main(sys.argv[1:])
