"""The Kubernetes manifests of deploy/kubernetes: valid for the API server and for the
prometheus-operator, consistent with the exporter, the rules and the dashboards, and their pod
runs.

No cluster runs on the test machines. ``kubectl kustomize`` renders the base and the example
overlay as ``kubectl apply -k`` would send them; kubernetes-validate checks every built-in
object against the Kubernetes API's schemas, and the CRD schemas vendored in tests/kubernetes
check prometheus-operator's objects, both rejecting unknown fields as the API server's strict
field validation does. Then the pod's volumes are laid out under a temporary root as the kubelet mounts them,
and the exporter runs with the container's arguments and answers the probes.
"""

import base64
import datetime
import json
import re
import ssl
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from exporter.config import parse_config
from exporter.web import DEFAULT_PORT
from mixin.settings import DEFAULTS, seconds
from tests.servers import eventually, free_port, installed, run_cli, running

ROOT = Path(__file__).resolve().parent.parent
KUBERNETES = ROOT / "deploy" / "kubernetes"
KUSTOMIZATIONS = {"base": KUBERNETES / "base", "example": KUBERNETES / "overlays" / "example"}
# The Kubernetes releases the manifests are checked against: one several releases old, so
# that they use no field a cluster that lags behind lacks, and the newest kubernetes-validate
# knows.
KUBERNETES_VERSIONS = ("1.30.0", "1.37.0")
# The release whose CRD schemas tests/kubernetes holds (its README says whence).
PROMETHEUS_OPERATOR = "0.93.0"
CRDS = ROOT / "tests" / "kubernetes"
CRD_SCHEMAS = {"ServiceMonitor": "servicemonitors", "PrometheusRule": "prometheusrules"}
OPERATOR_API = "monitoring.coreos.com/v1"
RULE_FILES = [ROOT / "alerts" / "recording.rules.yml", ROOT / "alerts" / "alerting.rules.yml"]
PROMETHEUS_CONFIG = ROOT / "alerts" / "prometheus.yml"
DASHBOARDS = ROOT / "dashboards" / "json"
DOCKERFILE = ROOT / "Dockerfile"
PORT_NAME = "metrics"
# The exporter's Secret, as the base names it (an overlay's generator adds a hash), and the
# key holding the database URL.
SECRET = "chat-supervision-exporter"
DATABASE_URL_KEY = "database-url"
# The keys of a kubernetes.io/tls Secret as cert-manager writes it, by web configuration
# setting, and the key of the CA that signed it.
TLS_KEYS = {"cert_file": "tls.crt", "key_file": "tls.key"}
CA_KEY = "ca.crt"
PROBE_PATHS = {"livenessProbe": "/-/healthy", "readinessProbe": "/-/ready"}
# The API server's limit on the total size of an object's annotations.
ANNOTATIONS_LIMIT = 256 * 1024
# The labels of the Pods that prometheus-operator runs for a Prometheus resource.
PROMETHEUS_POD = {"app.kubernetes.io/name": "prometheus"}

Json = dict[str, Any]


def render(kustomization: Path) -> list[Json]:
    """The objects ``kubectl apply -k`` would send, as ``kubectl kustomize`` builds them."""
    result = subprocess.run(
        [installed("kubectl"), "kustomize", str(kustomization)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return [document for document in yaml.safe_load_all(result.stdout) if document]


@pytest.fixture(scope="module", params=sorted(KUSTOMIZATIONS))
def objects(request: pytest.FixtureRequest) -> list[Json]:
    return render(KUSTOMIZATIONS[request.param])


@pytest.fixture(scope="module")
def example() -> list[Json]:
    """The example overlay, which adds TLS."""
    return render(KUSTOMIZATIONS["example"])


def of_kind(objects: list[Json], kind: str) -> list[Json]:
    return [item for item in objects if item["kind"] == kind]


def one(objects: list[Json], kind: str) -> Json:
    [item] = of_kind(objects, kind)
    return item


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    """Whether a ``matchLabels`` selector (or a Service's selector) selects these labels."""
    return bool(selector) and selector.items() <= labels.items()


def pod(objects: list[Json]) -> Json:
    template: Json = one(objects, "Deployment")["spec"]["template"]
    return template


def container(objects: list[Json]) -> Json:
    exporter: Json
    [exporter] = pod(objects)["spec"]["containers"]
    return exporter


def flags(objects: list[Json]) -> dict[str, str]:
    """The container's ``--flag=value`` arguments."""
    return dict(argument.split("=", 1) for argument in container(objects)["args"])


def mounts(objects: list[Json]) -> dict[str, Json]:
    """Each mount path of the container, and the volume mounted there."""
    volumes = {volume["name"]: volume for volume in pod(objects)["spec"]["volumes"]}
    return {
        mount["mountPath"]: volumes[mount["name"]] for mount in container(objects)["volumeMounts"]
    }


def mounted_at(objects: list[Json], path: str) -> tuple[str, Json]:
    """The mount path holding the file ``path``, and its volume."""
    [found] = [
        (mount, volume)
        for mount, volume in mounts(objects).items()
        if Path(path).parent == Path(mount)
    ]
    return found


def secret_data(objects: list[Json], name: str) -> dict[str, bytes] | None:
    """The data of the Secret ``name`` if the manifests hold it; None if the operator creates
    it."""
    secrets = [item for item in of_kind(objects, "Secret") if item["metadata"]["name"] == name]
    if not secrets:
        return None
    return {key: base64.b64decode(value) for key, value in secrets[0]["data"].items()}


def config_map_data(objects: list[Json], name: str) -> dict[str, str]:
    [config_map] = [
        item for item in of_kind(objects, "ConfigMap") if item["metadata"]["name"] == name
    ]
    data: dict[str, str] = config_map["data"]
    return data


def configuration(objects: list[Json]) -> tuple[str, str]:
    """The path of the exporter's configuration file, and what the ConfigMap holds there."""
    path = flags(objects)["--config.file"]
    _, volume = mounted_at(objects, path)
    return path, config_map_data(objects, volume["configMap"]["name"])[Path(path).name]


def database_url_file(objects: list[Json]) -> str:
    """Where the exporter reads the database URL: ``database.url_file``, resolved as the
    exporter resolves it, relative to the configuration file's directory."""
    path, text = configuration(objects)
    url_file = parse_config(text, path).database.url_file
    assert url_file is not None
    return str(Path(path).parent / url_file)


def strict(schema: object) -> object:
    """The CRD schema as the API server's strict field validation applies it: an object
    whose properties are listed accepts no other field, unless it preserves unknown ones."""
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    closed = {key: strict(value) for key, value in schema.items()}
    if (
        "properties" in schema
        and "additionalProperties" not in schema
        and not schema.get("x-kubernetes-preserve-unknown-fields")
    ):
        closed["additionalProperties"] = False
    return closed


def crd_schema(kind: str) -> Json:
    schema: Json = json.loads((CRDS / f"{CRD_SCHEMAS[kind]}.json").read_text(encoding="utf-8"))
    return schema


# Validity for the API server and the operator ---------------------------------------------


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_built_in_object_is_valid_for_the_kubernetes_api(
    objects: list[Json], version: str
) -> None:
    built_in = [item for item in objects if item["apiVersion"] != OPERATOR_API]
    assert {item["kind"] for item in built_in} >= {
        "Deployment",
        "Service",
        "NetworkPolicy",
        "ConfigMap",
        "ServiceAccount",
    }
    for item in built_in:
        try:
            kubernetes_validate.validate(item, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            name = f"{item['kind']}/{item['metadata']['name']}"
            pytest.fail(f"{name}: {'.'.join(map(str, error.path))}: {error.message}")


def test_every_operator_object_is_valid_for_its_crd(objects: list[Json]) -> None:
    operator = [item for item in objects if item["apiVersion"] == OPERATOR_API]
    assert sorted(item["kind"] for item in operator) == sorted(CRD_SCHEMAS)
    for item in operator:
        validator = jsonschema.Draft7Validator(strict(crd_schema(item["kind"])))
        errors = [
            f"{item['kind']}: {'.'.join(map(str, error.path))}: {error.message}"
            for error in validator.iter_errors(item)
        ]
        assert errors == []


def test_every_object_fits_in_kubectl_applys_annotation(objects: list[Json]) -> None:
    """Client-side ``kubectl apply`` keeps each object's JSON in an annotation, whose size the
    API server limits: a dashboard grown too large would break the apply."""
    too_large = {
        f"{item['kind']}/{item['metadata']['name']}": size
        for item in objects
        if (size := len(json.dumps(item, separators=(",", ":")).encode())) >= ANNOTATIONS_LIMIT
    }
    assert too_large == {}


def test_the_crd_schemas_are_the_pinned_releases() -> None:
    source = (CRDS / "README.md").read_text(encoding="utf-8")
    assert (
        f"prometheus-operator version: {PROMETHEUS_OPERATOR} (tag `v{PROMETHEUS_OPERATOR}`"
        in source
    )
    for kind, plural in CRD_SCHEMAS.items():
        url = (
            "https://github.com/prometheus-operator/prometheus-operator/blob/"
            f"v{PROMETHEUS_OPERATOR}/example/prometheus-operator-crd/monitoring.coreos.com_{plural}.yaml"
        )
        assert f"| `{plural}.json` | <{url}> |" in source
        schema = crd_schema(kind)
        assert schema["properties"]["kind"]["type"] == "string"
        assert "spec" in schema["required"]


# Consistency with the exporter, the rules and the dashboards ------------------------------


def test_the_pod_runs_as_the_images_unprivileged_user(objects: list[Json]) -> None:
    user = re.search(r"^USER (\d+):(\d+)$", DOCKERFILE.read_text(encoding="utf-8"), re.MULTILINE)
    assert user is not None
    spec = pod(objects)["spec"]
    assert spec["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": int(user[1]),
        "runAsGroup": int(user[2]),
        "fsGroup": int(user[2]),
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert container(objects)["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert spec["automountServiceAccountToken"] is False
    assert one(objects, "ServiceAccount")["automountServiceAccountToken"] is False
    assert all(mount["readOnly"] for mount in container(objects)["volumeMounts"])
    deployment = one(objects, "Deployment")["spec"]
    assert (deployment["replicas"], deployment["strategy"]) == (1, {"type": "Recreate"})


def test_the_probes_are_the_exporters(objects: list[Json]) -> None:
    exporter = container(objects)
    assert exporter["ports"] == [
        {"name": PORT_NAME, "containerPort": DEFAULT_PORT, "protocol": "TCP"}
    ]
    assert "--web.listen-address" not in flags(objects)
    scheme = "HTTPS" if "--web.config.file" in flags(objects) else "HTTP"
    for probe, path in PROBE_PATHS.items():
        get = exporter[probe]["httpGet"]
        assert (get["path"], get["port"], get.get("scheme", "HTTP")) == (path, PORT_NAME, scheme)


def test_the_configuration_is_valid_and_reads_the_url_from_the_mounted_secret(
    objects: list[Json],
) -> None:
    resolved = database_url_file(objects)
    _, volume = mounted_at(objects, resolved)
    assert Path(resolved).name == DATABASE_URL_KEY
    name = volume["secret"]["secretName"]
    data = secret_data(objects, name)
    if data is None:
        assert name == SECRET, "the operator creates the Secret the documentation names"
    else:
        assert name.startswith(f"{SECRET}-")
        assert DATABASE_URL_KEY in data, f"{name} has no key {DATABASE_URL_KEY}"


def test_tls_comes_from_mounted_secrets_and_prometheus_checks_it(example: list[Json]) -> None:
    path = flags(example)["--web.config.file"]
    _, volume = mounted_at(example, path)
    data = secret_data(example, volume["secret"]["secretName"])
    assert data is not None, "the web configuration is not in the overlay's Secret"
    tls = yaml.safe_load(data[Path(path).name])["tls_server_config"]
    secrets = set()
    for setting, key in TLS_KEYS.items():
        file = Path(path).parent / tls[setting]
        _, certificates = mounted_at(example, str(file))
        secrets.add(certificates["secret"]["secretName"])
        assert file.name == key
    [name] = secrets
    assert secret_data(example, name) is None, "the certificate's Secret is cert-manager's"
    [endpoint] = one(example, "ServiceMonitor")["spec"]["endpoints"]
    assert endpoint["tlsConfig"]["ca"] == {"secret": {"name": name, "key": CA_KEY}}


def test_the_service_monitor_scrapes_the_service_as_prometheus_yml_does(
    objects: list[Json],
) -> None:
    service, monitor = one(objects, "Service"), one(objects, "ServiceMonitor")
    assert selects(service["spec"]["selector"], pod(objects)["metadata"]["labels"])
    assert service["spec"]["ports"] == [
        {"name": PORT_NAME, "port": DEFAULT_PORT, "targetPort": PORT_NAME, "protocol": "TCP"}
    ]
    assert selects(monitor["spec"]["selector"]["matchLabels"], service["metadata"]["labels"])
    [endpoint] = monitor["spec"]["endpoints"]
    scrape = yaml.safe_load(PROMETHEUS_CONFIG.read_text(encoding="utf-8"))["global"]
    assert (endpoint["port"], endpoint["path"]) == (PORT_NAME, "/metrics")
    assert (endpoint["interval"], endpoint["scrapeTimeout"]) == (
        scrape["scrape_interval"],
        scrape["scrape_timeout"],
    )
    if "--web.config.file" in flags(objects):
        namespace = service["metadata"]["namespace"]
        assert endpoint["scheme"] == "https"
        assert (
            endpoint["tlsConfig"]["serverName"] == f"{service['metadata']['name']}.{namespace}.svc"
        )
    else:
        assert endpoint.get("scheme", "http") == "http"


def test_an_ha_pair_of_prometheus_costs_one_collection_per_interval(
    objects: list[Json],
) -> None:
    """min_interval between half the ServiceMonitor's interval and the whole (README,
    "Scaling out"; tests/test_scale_out.py shows why)."""
    path, text = configuration(objects)
    min_interval = parse_config(text, path).collection.min_interval
    [endpoint] = one(objects, "ServiceMonitor")["spec"]["endpoints"]
    interval = seconds(endpoint["interval"])
    assert interval / 2 < min_interval < interval


def test_the_job_is_the_one_the_generated_rules_select(objects: list[Json]) -> None:
    job = re.fullmatch(r'job="([^"]+)"', DEFAULTS.job_selector)
    assert job is not None, DEFAULTS.job_selector
    [endpoint] = one(objects, "ServiceMonitor")["spec"]["endpoints"]
    assert endpoint["relabelings"] == [
        {"action": "replace", "targetLabel": "job", "replacement": job[1]}
    ]


def test_the_network_policies_select_the_pod_and_let_only_prometheus_in(
    objects: list[Json],
) -> None:
    policies = of_kind(objects, "NetworkPolicy")
    labels = pod(objects)["metadata"]["labels"]
    assert all(selects(policy["spec"]["podSelector"]["matchLabels"], labels) for policy in policies)
    [ingress] = [
        policy["spec"] for policy in policies if "Ingress" in policy["spec"]["policyTypes"]
    ]
    [rule] = ingress["ingress"]
    assert rule["ports"] == [{"port": PORT_NAME, "protocol": "TCP"}]
    [source] = rule["from"]
    assert selects(PROMETHEUS_POD, source["podSelector"]["matchLabels"])
    assert source["namespaceSelector"]["matchLabels"]
    for policy in policies:
        if "Egress" in policy["spec"]["policyTypes"]:
            ports = [port for rule in policy["spec"]["egress"] for port in rule["ports"]]
            assert {"port": 53, "protocol": "UDP"} in ports, "no DNS, no database host name"


def test_the_prometheus_rule_holds_the_committed_rule_files(objects: list[Json]) -> None:
    rule = one(objects, "PrometheusRule")
    committed = [
        group
        for path in RULE_FILES
        for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]
    ]
    assert rule["spec"]["groups"] == committed


def test_the_dashboards_are_config_maps_for_grafanas_sidecar(objects: list[Json]) -> None:
    shipped = {
        board["uid"]: board
        for board in (
            json.loads(path.read_text(encoding="utf-8")) for path in DASHBOARDS.glob("*.json")
        )
    }
    labelled = [
        item
        for item in of_kind(objects, "ConfigMap")
        if item["metadata"]["labels"].get("grafana_dashboard") == "1"
    ]
    boards = [json.loads(text) for item in labelled for text in item["data"].values()]
    assert {board["uid"]: board for board in boards} == shipped


# The pod runs -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Root:
    """A directory standing for the pod's filesystem: each mount path lives under it."""

    path: Path

    def of(self, mount: str) -> Path:
        return self.path / mount.lstrip("/")

    def rewrite(self, text: str, mount_paths: list[str]) -> str:
        """``text`` with the paths inside the container's mounts as they are under this root."""
        longest_first = sorted(mount_paths, key=len, reverse=True)
        pattern = rf"(?<![\w./-])({'|'.join(map(re.escape, longest_first))})(?=/|\s|$)"
        return re.sub(pattern, lambda found: str(self.of(found[1])), text, flags=re.MULTILINE)


def certificate() -> tuple[bytes, bytes]:
    """A self-signed certificate and its key, in PEM."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "chat-supervision-exporter")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM), private


def lay_out(objects: list[Json], root: Root, database_url: str) -> None:
    """Write each volume's files under ``root`` as the kubelet mounts them: the ConfigMaps
    and Secrets of the manifests, and those the operator provides: the database URL and the
    certificate's Secret as cert-manager writes it."""
    database_mount = str(Path(database_url_file(objects)).parent)
    for mount, volume in mounts(objects).items():
        if "configMap" in volume:
            data = config_map_data(objects, volume["configMap"]["name"])
            files = {key: text.encode() for key, text in data.items()}
        else:
            files = secret_data(objects, volume["secret"]["secretName"]) or {}
            if not files and mount != database_mount:
                cert, key = certificate()
                files = {TLS_KEYS["cert_file"]: cert, TLS_KEYS["key_file"]: key, CA_KEY: cert}
        root.of(mount).mkdir(parents=True)
        for name, content in files.items():
            (root.of(mount) / name).write_text(
                root.rewrite(content.decode(), list(mounts(objects)))
            )
    root.of(database_url_file(objects)).write_text(f"{database_url}\n")


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('chat') / 'chat.db'}"
    assert run_cli("init-db", "--database.url", url).returncode == 0
    return url


def get(url: str) -> tuple[int, str]:
    """The status and body of ``url``; over HTTPS without checking the certificate, as the
    kubelet's probes do."""
    unchecked = ssl.create_default_context()
    unchecked.check_hostname = False
    unchecked.verify_mode = ssl.CERT_NONE
    try:
        with urllib.request.urlopen(url, timeout=10, context=unchecked) as response:
            status: int = response.status
            return status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, ""


def succeeding(url: str) -> Callable[[], bool]:
    """A check that ``url`` answers 200, as a probe succeeds."""
    return lambda: get(url)[0] == 200


@pytest.fixture
def running_pod(objects: list[Json], tmp_path: Path, database: str) -> Iterator[str]:
    """The exporter started with the container's arguments and files; its base URL."""
    root = Root(tmp_path / "pod")
    lay_out(objects, root, database)
    arguments = [
        root.rewrite(argument, list(mounts(objects))) for argument in container(objects)["args"]
    ]
    port = free_port()
    scheme = "https" if "--web.config.file" in flags(objects) else "http"
    base = f"{scheme}://127.0.0.1:{port}"
    command = [
        sys.executable,
        "-m",
        "exporter",
        *arguments,
        "--web.listen-address",
        f"127.0.0.1:{port}",
    ]
    with running(command, succeeding(f"{base}/-/healthy"), tmp_path / "exporter.log", cwd=tmp_path):
        yield base


def test_the_pod_answers_its_probes_and_reads_the_database(
    objects: list[Json], running_pod: str
) -> None:
    for probe, path in PROBE_PATHS.items():
        assert container(objects)[probe]["httpGet"]["path"] == path
        url = f"{running_pod}{path}"
        assert eventually(succeeding(url), 30), f"{probe}: {get(url)}"
    status, body = get(f"{running_pod}/metrics")
    assert status == 200
    assert "\nchat_up 1" in f"\n{body}"
