#!/usr/bin/env bash
# Certificates for the celador webhook on clusters without cert-manager.
#
# Makes a self-signed CA and a serving certificate for the Service name the API server
# verifies (celador-webhook.celador.svc), stores them in the Secret celador-webhook-tls, and
# patches the CA into the ValidatingWebhookConfiguration's caBundle.
#
#   ./make-certs.sh                 # generate into ./certs and apply to the current context
#   ./make-certs.sh --no-apply      # generate only
#   OUT=/tmp/certs DAYS=90 ./make-certs.sh
#
# Run it again before the certificate expires (DAYS, default 365): the kubelet updates the
# mounted Secret and the webhook reloads the new files without a restart. Reusing the CA
# (kept in $OUT/ca.key) keeps caBundle valid across renewals.
set -euo pipefail

NAMESPACE="${NAMESPACE:-celador}"
SERVICE="${SERVICE:-celador-webhook}"
SECRET="${SECRET:-celador-webhook-tls}"
WEBHOOK_CONFIG="${WEBHOOK_CONFIG:-celador}"
OUT="${OUT:-certs}"
DAYS="${DAYS:-365}"
APPLY=1
[[ "${1:-}" == "--no-apply" ]] && APPLY=0

mkdir -p "$OUT"
umask 077

if [[ ! -f "$OUT/ca.key" ]]; then
  openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
    -keyout "$OUT/ca.key" -out "$OUT/ca.crt" -days 3650 -subj "/CN=celador-webhook-ca" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
fi

cat > "$OUT/server.ext" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:${SERVICE}.${NAMESPACE}.svc,DNS:${SERVICE}.${NAMESPACE}.svc.cluster.local
EXT
openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
  -keyout "$OUT/tls.key" -out "$OUT/tls.csr" -subj "/CN=${SERVICE}.${NAMESPACE}.svc" 2>/dev/null
openssl x509 -req -in "$OUT/tls.csr" -CA "$OUT/ca.crt" -CAkey "$OUT/ca.key" -CAcreateserial \
  -out "$OUT/tls.crt" -days "$DAYS" -extfile "$OUT/server.ext" 2>/dev/null
rm -f "$OUT/tls.csr" "$OUT/server.ext"
openssl verify -CAfile "$OUT/ca.crt" "$OUT/tls.crt" >/dev/null
echo "wrote $OUT/ca.crt, $OUT/tls.crt, $OUT/tls.key (SAN ${SERVICE}.${NAMESPACE}.svc)"

if [[ "$APPLY" == 1 ]]; then
  kubectl -n "$NAMESPACE" create secret tls "$SECRET" --cert="$OUT/tls.crt" --key="$OUT/tls.key" \
    --dry-run=client -o yaml | kubectl apply -f -
  CA_BUNDLE="$(base64 < "$OUT/ca.crt" | tr -d '\n')"
  kubectl patch validatingwebhookconfiguration "$WEBHOOK_CONFIG" --type=json \
    -p "[{\"op\":\"add\",\"path\":\"/webhooks/0/clientConfig/caBundle\",\"value\":\"${CA_BUNDLE}\"}]"
  echo "updated secret $NAMESPACE/$SECRET and the caBundle of validatingwebhookconfiguration/$WEBHOOK_CONFIG"
fi
