#!/bin/bash
# Entrypoint of local/opensearch:2.19.1, the OpenSearch image built from Debian's Java 17
# and the Maven jars the native route runs (scripts/images/opensearch.sh). It takes its
# configuration the way the official image does, so the test harness treats both alike:
# every env var named like a setting (`http.port=29200`, `discovery.type=single-node`)
# becomes that setting, and OPENSEARCH_JAVA_OPTS sets the JVM flags. The jars carry no
# security plugin, so DISABLE_SECURITY_PLUGIN / plugins.security.* have nothing to turn off.
# With no arguments it runs the node in the foreground; any other command runs as given.
set -euo pipefail
[ $# -eq 0 ] || [ "${1:0:1}" = - ] || exec "$@"

OS_HOME=/usr/share/opensearch
base=$OS_HOME/node
rm -rf "$base"
mkdir -p "$base/node_1/config"
yml=$base/node_1/config/opensearch.yml
http_port=9200
cluster=opensearch-cluster
# The runner alone would let nodes on one host (host networking) join each other.
printf 'discovery.type: single-node\n' >"$yml"
while IFS= read -r -d '' entry; do
  key=${entry%%=*} value=${entry#*=}
  [[ $key =~ ^[a-z0-9_]+(\.[a-z0-9_]+)+$ ]] || continue
  case $key in
    # The runner sets these itself from its flags (they would override the file).
    http.port) http_port=$value ;;
    cluster.name) cluster=$value ;;
    discovery.type | plugins.security.*) ;;
    *) value=${value//\\/\\\\}; printf '%s: "%s"\n' "$key" "${value//\"/\\\"}" >>"$yml" ;;
  esac
done < <(env -0)

# The runner serves HTTP on base+1; FlussoOpenSearchRunner lifts its 9299 cap.
# shellcheck disable=SC2086 # JVM flags are a word list
exec java ${OPENSEARCH_JAVA_OPTS:--Xms1g -Xmx1g} -cp "$OS_HOME/launcher:$OS_HOME/lib/*" FlussoOpenSearchRunner \
  -basePath "$base" -numOfNode 1 -baseHttpPort "$((http_port - 1))" -clusterName "$cluster" "$@"
