#!/usr/bin/env bash
# Apache Kafka, one KRaft node (broker + controller) on 127.0.0.1:9092 (controller 9093), secured:
# clients speak SASL_SSL with SCRAM-SHA-512 (CA and broker certificate from kafka_tls.py, in
# <cache>/tls/), the StandardAuthorizer denies what no ACL allows, and kafka_principals.py creates
# the service principals, their ACLs (loa.kafka_acl) and the topics at every start. The controller
# listener stays on loopback, SASL_PLAINTEXT with PLAIN for the admin alone (KRaft controllers
# cannot check SCRAM: the credentials live in the metadata they serve). The admin signs in with
# PLAIN over TLS (a static credential: works on any data folder), the services with SCRAM.
# Usage: kafka.sh install|up|down|status|health
set -euo pipefail
LOA_COMPONENT=kafka
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT="${LOA_KAFKA_PORT:-9092}"
CONTROLLER_PORT="${LOA_KAFKA_CONTROLLER_PORT:-9093}"
HOME_DIR="$LOA_CACHE/kafka"
LIBS="$HOME_DIR/libs"
POM="$LOA_LOCAL/kafka-pom.xml"
DATA="$LOA_DATA/kafka"
PROPS="$HOME_DIR/server.properties"
LOG="$LOA_LOGS/kafka.out"
MAIN_CLASS=kafka.Kafka
TLS="$LOA_CACHE/tls"
ADMIN=loa-admin # the super user: setup, the health check and the test harness, never a service
VENV_PY="$LOA_REPO/.venv/bin/python"

installed() { [[ -f "$LIBS/.pom.sha256" ]] && [[ "$(cat "$LIBS/.pom.sha256")" == "$(sha256sum <"$POM")" ]]; }

install() {
  installed && return 0
  command -v mvn >/dev/null || die "mvn is missing (apt-get install -y maven)"
  command -v java >/dev/null || die "java is missing (apt-get install -y openjdk-17-jre-headless)"
  say "fetching the broker's jars from Maven Central (log: $LOA_LOGS/kafka-fetch.log)"
  rm -rf "$LIBS.tmp"
  if ! mvn -q -B -f "$POM" dependency:copy-dependencies -DoutputDirectory="$LIBS.tmp" \
    -DincludeScope=runtime >"$LOA_LOGS/kafka-fetch.log" 2>&1; then
    tail -n 20 "$LOA_LOGS/kafka-fetch.log" >&2
    die "mvn could not fetch the Kafka jars (see $LOA_LOGS/kafka-fetch.log)"
  fi
  sha256sum <"$POM" >"$LIBS.tmp/.pom.sha256"
  rm -rf "$LIBS" && mv "$LIBS.tmp" "$LIBS"
  say "$(find "$LIBS" -name '*.jar' | wc -l) jars in $LIBS"
}

ensure_kafka_secrets() {
  # The admin's and every service principal's password (the keys come from loa.kafka_acl), and
  # where clients find the CA; existing .env.local files get what they miss.
  local keys key
  keys="$(PYTHONPATH="$LOA_REPO/shared" "$VENV_PY" -m loa.kafka_acl --password-keys)" || die "cannot list the principals"
  ( # one writer at a time: components started together must not append a key twice
    flock 9
    ensure_secret LOA_KAFKA_ADMIN_PASSWORD 32
    for key in $keys; do ensure_secret "$key" 32; done
    ensure_env_path LOA_KAFKA_SSL_CAFILE "$TLS/ca.pem"
  ) 9>>"$LOA_RUN/env-file.lock"
}

admin_password() {
  local pw
  pw="$(env_value LOA_KAFKA_ADMIN_PASSWORD)"
  [[ -n "$pw" ]] || die "LOA_KAFKA_ADMIN_PASSWORD is missing from $LOA_ENV_FILE (stack.sh up writes it)"
  printf '%s' "$pw"
}

# LOA_KAFKA_SECURITY_PROTOCOL=PLAINTEXT: a development broker without TLS, SASL or ACLs, for a
# comparison (docs/benchmarks.md) or an older checkout; the services refuse it in production.
SECURITY="$(env_value LOA_KAFKA_SECURITY_PROTOCOL)"
SECURITY="${SECURITY:-SASL_SSL}"
[[ "$SECURITY" == SASL_SSL || "$SECURITY" == PLAINTEXT ]] || die "LOA_KAFKA_SECURITY_PROTOCOL must be SASL_SSL or PLAINTEXT, not $SECURITY"

security_properties() {
  local client=CLIENT protocol=SASL_SSL controller=SASL_PLAINTEXT
  [[ "$SECURITY" == SASL_SSL ]] || client=PLAINTEXT protocol=PLAINTEXT controller=PLAINTEXT
  cat <<PROPS
listeners=$client://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=$client://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
listener.security.protocol.map=$client:$protocol,CONTROLLER:$controller
controller.listener.names=CONTROLLER
inter.broker.listener.name=$client
PROPS
  if [[ "$SECURITY" == PLAINTEXT ]]; then
    echo "# PLAINTEXT (LOA_KAFKA_SECURITY_PROTOCOL): no TLS, no authentication, no ACLs; development only"
    return 0
  fi
  local pw
  pw="$(admin_password)"
  cat <<PROPS
# clients: TLS (PEM keystore, KIP-651), then SCRAM-SHA-512 (the services' credentials live in the
# metadata); PLAIN knows the admin alone (its password here), so setup signs in on any data folder,
# one formatted before Kafka was secured included, and the broker to itself
listener.name.client.sasl.enabled.mechanisms=SCRAM-SHA-512,PLAIN
listener.name.client.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.client.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="$ADMIN" password="$pw" user_$ADMIN="$pw";
sasl.mechanism.inter.broker.protocol=PLAIN
ssl.keystore.type=PEM
ssl.keystore.location=$TLS/broker.pem
ssl.truststore.type=PEM
ssl.truststore.location=$TLS/ca.pem
ssl.endpoint.identification.algorithm=https
# the controller listener: loopback only, PLAIN for the admin alone (SCRAM is not possible there)
listener.name.controller.sasl.enabled.mechanisms=PLAIN
sasl.mechanism.controller.protocol=PLAIN
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="$ADMIN" password="$pw" user_$ADMIN="$pw";
# deny by default: what no ACL allows is refused (ACLs: loa.kafka_acl, made by kafka_principals.py)
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:$ADMIN
PROPS
}

write_properties() {
  mkdir -p "$HOME_DIR" "$DATA"
  (
    umask 077 # it holds the admin's password
    {
      cat <<PROPS
# Generated by deploy/local/kafka.sh on every start; edit the script, not this file.
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$CONTROLLER_PORT
PROPS
      security_properties
      cat <<PROPS
log.dirs=$DATA
# scaling out = more partitions and more replicas in one consumer group
num.partitions=3
auto.create.topics.enable=true
default.replication.factor=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.hours=168
PROPS
    } >"$PROPS"
  )
}

JAVA_OPTS=(-Xmx768m -Xms256m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true
  "-Dkafka.logs.dir=$LOA_LOGS" "-Dlog4j2.configurationFile=$LOA_LOCAL/kafka-log4j2.properties")
JAVA=(java "${JAVA_OPTS[@]}" -cp "$LIBS/*")

# LOA_KAFKA_TEST_BROKER=1: a broker started and stopped often for a few seconds of work (a fault
# test's private stack, loa.testing.private_stack), where the JVM's start-up is the cost: the C1
# compiler only (-XX:TieredStopAtLevel=1) and the broker's classes from a class-data archive
# (AppCDS, JEP 350), made by the first such broker when it stops and kept beside the jars (a new
# jar set replaces the folder, and the archive with it). Together they halve the CPU of a start
# (docs/testing.md). Never for the shared stack nor the drill's: C1 code is slower, benchmarks run there.
CDS_ARCHIVE="$LIBS/.test-broker.jsa"
CDS_PENDING="$LOA_RUN/kafka-cds.pending"
TEST_BROKER="$(env_value LOA_KAFKA_TEST_BROKER)"

test_broker_java() { # test_broker_java [broker]: a test JVM's java command, one word a line; a
  # broker started with no archive yet records one to be made when it stops
  # the archive names the class path it was made with: the jars' real folder, the same for every
  # private stack (each links the main cache's jars)
  printf '%s\n' java "${JAVA_OPTS[@]}" -XX:TieredStopAtLevel=1 -Xlog:cds=off -Xlog:cds+dynamic=off
  printf '%s\n' -cp "$(cd -P "$LIBS" && pwd)/*"
  if [[ -f "$CDS_ARCHIVE" ]]; then
    printf '%s\n' "-XX:SharedArchiveFile=$CDS_ARCHIVE"
  elif [[ "${1:-}" == broker ]]; then
    local made="$CDS_ARCHIVE.$$.tmp"
    printf '%s\n' "$made" >"$CDS_PENDING"
    printf '%s\n' "-XX:ArchiveClassesAtExit=$made"
  fi
}

keep_class_archive() { # after a test broker's stop: the archive it wrote, if the JVM accepts it
  [[ -f "$CDS_PENDING" ]] || return 0
  local made
  made="$(cat "$CDS_PENDING")"
  rm -f "$CDS_PENDING"
  [[ -f "$made" ]] || return 0
  # -Xshare:on fails unless the archive is whole and fits this JVM and class path
  if java -Xshare:on "-XX:SharedArchiveFile=$made" -cp "$(cd -P "$LIBS" && pwd)/*" -version >/dev/null 2>&1; then
    mv -f "$made" "$CDS_ARCHIVE"
  else
    rm -f "$made"
  fi
}

format_storage() {
  [[ -f "$DATA/meta.properties" ]] && return 0
  local cluster_id
  cluster_id="$(random_token 16 | head -c 22)"
  # one starting with '-' is read as an option by the storage tool ("--cluster-id: expected one
  # argument"): Kafka's own ids never start so (Uuid.randomUuid draws again), nor do ours
  while [[ "$cluster_id" == -* ]]; do cluster_id="$(random_token 16 | head -c 22)"; done
  say "formatting storage in $DATA (cluster $cluster_id)"
  local java=("${JAVA[@]}")
  if [[ "$TEST_BROKER" == 1 ]]; then mapfile -t java < <(test_broker_java); fi
  "${java[@]}" kafka.tools.StorageTool format --standalone -t "$cluster_id" -c "$PROPS" \
    >>"$LOA_LOGS/kafka-format.log" 2>&1 || die "storage format failed (see $LOA_LOGS/kafka-format.log)"
}

ensure_principals() { # the SCRAM credentials, ACLs and topics of loa.kafka_acl (idempotent)
  PYTHONPATH="$LOA_REPO/shared" "$VENV_PY" "$LOA_LOCAL/kafka_principals.py" "127.0.0.1:$PORT" "$TLS/ca.pem" ||
    die "could not create the Kafka principals and ACLs (messages above)"
}

pid() { running_pid kafka "$MAIN_CLASS"; }
healthy() {
  if [[ "$SECURITY" == PLAINTEXT ]]; then "$LOA_PYTHON" "$LOA_LOCAL/kafka_ready.py" "127.0.0.1:$PORT"; return; fi
  "$LOA_PYTHON" "$LOA_LOCAL/kafka_ready.py" "127.0.0.1:$PORT" "$TLS/ca.pem"
}

up() {
  if [[ -n "$(pid)" ]]; then
    # a service added since the broker started gets its principal, ACLs and topics (idempotent)
    ensure_kafka_secrets
    [[ "$SECURITY" == PLAINTEXT ]] || ensure_principals
    say "already running (pid $(pid))"
    return 0
  fi
  install
  [[ -x "$VENV_PY" ]] || die "the venv is missing ($VENV_PY): run make setup first"
  require_free_port kafka "$PORT"
  require_free_port kafka-controller "$CONTROLLER_PORT"
  ensure_kafka_secrets
  "$VENV_PY" "$LOA_LOCAL/kafka_tls.py" "$TLS"
  write_properties
  format_storage
  local java=("${JAVA[@]}")
  if [[ "$TEST_BROKER" == 1 ]]; then mapfile -t java < <(test_broker_java broker); fi
  start_daemon kafka "$LOG" "${java[@]}" "$MAIN_CLASS" "$PROPS"
  if ! wait_until 120 "metadata" healthy; then
    tail -n 20 "$LOA_LOGS/kafka-server.log" "$LOG" >&2 || true
    down
    die "did not answer a metadata request on 127.0.0.1:$PORT within 120 s (logs in $LOA_LOGS)"
  fi
  [[ "$SECURITY" == PLAINTEXT ]] || ensure_principals
  say "ready on 127.0.0.1:$PORT (pid $(pid)), $SECURITY"
}

down() {
  stop_daemon
  keep_class_archive
}

component_main "$@"
