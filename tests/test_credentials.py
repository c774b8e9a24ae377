"""Certificates as Open Badges 3.0 credentials: the signing key and ``lms keys create``, the
credential verified from the published JWK Set alone with jwcrypto (a JOSE library the
signing code does not use), tampering and foreign keys refused, the revocation status list,
the PDF attachment, who may download what, and life without a key."""

from __future__ import annotations

import base64
import gzip
import io
import json
import os
import stat
import threading
from datetime import UTC, date, datetime

import pytest
from jwcrypto.common import JWException
from jwcrypto.jwk import JWK, JWKSet
from jwcrypto.jws import JWS
from sqlalchemy import select

from lms import signing_keys
from lms.cli import lms_group
from lms.models import SignOff, StandardsPolicy
from lms.models._types import utcnow
from lms.services import certificates, credentials

PROGRAMME = "Peer Support Foundations"
VC = "https://www.w3.org/ns/credentials/v2"
OB = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def key_file(app):
    return signing_keys.key_file(app)


@pytest.fixture
def signing_key(key_file):
    key, _old = signing_keys.create(key_file)
    return key


@pytest.fixture
def signer(make_person):
    return make_person("supervisor", name="Sam Supervisor")


@pytest.fixture
def standards(db, content):
    """The test curriculum's current standards version (from its standards.yaml)."""
    return db.scalar(select(StandardsPolicy).where(StandardsPolicy.curriculum_id == content.id,
                                                   StandardsPolicy.current.is_(True)))


@pytest.fixture
def issued(app, db, content, standards, signer):
    """A certificate from a new deploy sign-off of ``trainee`` at ``at``."""
    def make(trainee, at=None):
        deploy = SignOff(trainee_id=trainee.id, curriculum_id=content.id, decision="deploy",
                         evidence={}, policy_id=standards.id, signed_by_id=signer.id,
                         created_at=at or utcnow())
        db.add(deploy)
        db.commit()
        with app.app_context():
            certificate = certificates.issue(db, deploy, programme=PROGRAMME, now=at)
            db.commit()
        return certificate

    return make


def revoke(db, certificate, signer) -> None:
    db.add(SignOff(trainee_id=certificate.trainee_id, curriculum_id=certificate.sign_off
                   .curriculum_id, decision="revoke", evidence={}, signed_by_id=signer.id,
                   revokes_id=certificate.sign_off_id, reasons="r"))
    db.commit()


# --- a verifier that knows only the published JWK Set (jwcrypto, not joserfc) ----------------


def published_keys(client) -> JWKSet:
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    return JWKSet.from_json(response.get_data(as_text=True))


def verify(token: str, keys: JWKSet) -> tuple[dict, dict]:
    """The header and payload of a compact JWS signed by one of ``keys``; raises otherwise."""
    signed = JWS()
    signed.deserialize(token)
    header = signed.jose_header
    key = keys.get_key(header.get("kid", ""))
    if key is None:
        raise JWException("no published key has this kid")
    signed.verify(key, alg="EdDSA")
    return header, json.loads(signed.payload)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def token_of(envelope: dict) -> str:
    assert envelope["type"] == "EnvelopedVerifiableCredential"
    assert envelope["@context"] == VC
    prefix = "data:application/vc+jwt,"
    assert envelope["id"].startswith(prefix)
    return envelope["id"][len(prefix):]


def download(client, certificate) -> str:
    response = client.get(f"/my/certificates/{certificate.id}.json")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    return token_of(json.loads(response.data))


def status_bits(client, keys: JWKSet) -> tuple[bytes, dict]:
    """The revocation list's bitstring, read back as a verifier would, and its payload."""
    response = client.get("/credentials/status/revocation")
    assert response.status_code == 200
    assert response.mimetype == "application/vc+jwt"
    header, payload = verify(response.get_data(as_text=True), keys)
    assert header["typ"] == "vc+jwt"
    subject = payload["credentialSubject"]
    assert payload["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert subject["type"] == "BitstringStatusList"
    assert subject["statusPurpose"] == "revocation"
    assert subject["encodedList"].startswith("u")  # multibase base64url
    return gzip.decompress(unb64(subject["encodedList"][1:])), payload


def bit(bits: bytes, index: int) -> int:
    return (bits[index // 8] >> (7 - index % 8)) & 1


# --- the key and `lms keys create` ---------------------------------------------------------


def test_keys_create_writes_a_private_ed25519_jwk_and_prints_its_id(runner, key_file):
    result = runner.invoke(lms_group, ["keys", "create"])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    data = json.loads(key_file.read_text())
    assert (data["kty"], data["crv"]) == ("OKP", "Ed25519") and data["d"] and data["x"]
    # The key id is the RFC 7638 thumbprint, as jwcrypto computes it from the public half.
    public = JWK(kty="OKP", crv="Ed25519", x=data["x"])
    assert data["kid"] == public.thumbprint()
    assert f"Key id: {public.thumbprint()}" in result.output
    assert str(key_file) in result.output


def test_keys_create_refuses_to_overwrite_unless_forced(runner, key_file):
    assert runner.invoke(lms_group, ["keys", "create"]).exit_code == 0
    first = key_file.read_text()
    refused = runner.invoke(lms_group, ["keys", "create"])
    assert refused.exit_code == 1
    assert "already holds a signing key" in refused.output and "--force" in refused.output
    assert key_file.read_text() == first
    old_kid = json.loads(first)["kid"]
    forced = runner.invoke(lms_group, ["keys", "create", "--force"])
    assert forced.exit_code == 0, forced.output
    assert f"replaced key {old_kid}" in forced.output and "no longer verify" in forced.output
    new = json.loads(key_file.read_text())
    assert new["kid"] != old_kid and f"Key id: {new['kid']}" in forced.output
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600


def test_two_creates_at_once_make_one_key_and_one_refusal(key_file):
    start = threading.Barrier(2)
    made: list[str] = []
    refused: list[str] = []
    lock = threading.Lock()

    def create() -> None:
        start.wait()
        try:
            key, _old = signing_keys.create(key_file)
        except signing_keys.KeyExists as exc:
            with lock:
                refused.append(str(exc))
        else:
            with lock:
                made.append(key.kid)

    threads = [threading.Thread(target=create) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(made) == 1 and len(refused) == 1
    assert signing_keys.load(key_file).kid == made[0]
    assert os.listdir(key_file.parent) == [key_file.name]  # no temporary file left behind


def test_the_key_file_setting_is_used(app, runner, tmp_path):
    app.config["LMS_ISSUER_KEY_FILE"] = str(tmp_path / "keys" / "issuer.jwk")
    result = runner.invoke(lms_group, ["keys", "create"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "keys" / "issuer.jwk").exists()
    assert not (tmp_path / "instance" / signing_keys.KEY_FILE_NAME).exists()


def test_a_broken_key_file_is_refused_clearly(key_file):
    key_file.parent.mkdir(parents=True, exist_ok=True)
    for text in ("not json", json.dumps({"kty": "RSA"}),
                 json.dumps({"kty": "OKP", "crv": "Ed25519", "d": b64(b"short"), "x": "AA"})):
        key_file.write_text(text)
        with pytest.raises(signing_keys.SigningKeyError, match=str(key_file)):
            signing_keys.load(key_file)
    other, _ = signing_keys.create(key_file.parent / "other.jwk")
    mine, _ = signing_keys.create(key_file.parent / "mine.jwk")
    mixed = {**mine.private_jwk, "x": other.public_jwk["x"]}  # halves of two keys
    key_file.write_text(json.dumps(mixed))
    with pytest.raises(signing_keys.SigningKeyError, match="does not match"):
        signing_keys.load(key_file)


# --- the credential, verified from the published key alone --------------------------------


def test_a_credential_verifies_from_the_published_key_alone(client, client_for, trainee,
                                                            issued, signing_key):
    certificate = issued(trainee, at=datetime(2026, 3, 12, 9, 30, tzinfo=UTC))
    token = download(client_for(trainee), certificate)
    keys = published_keys(client)  # anonymous: the JWK Set is public
    assert all("d" not in key for key in json.loads(keys.export(private_keys=False))["keys"])
    header, payload = verify(token, keys)

    assert header == {"alg": "EdDSA", "typ": "vc+jwt", "cty": "vc", "kid": signing_key.kid}
    assert payload["@context"] == [VC, OB]
    assert payload["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    code = certificates.grouped(certificate.code)
    assert payload["id"] == f"http://localhost/verify/{code}"
    assert payload["issuer"] == {"id": "http://localhost", "type": ["Profile"],
                                 "name": "Peer supporter training", "url": "http://localhost"}
    assert payload["validFrom"] == "2026-03-12T09:30:00Z"
    assert payload["validUntil"] == "2028-03-13T00:00:00Z"  # through the expiry day (UTC)
    subject = payload["credentialSubject"]
    assert subject["type"] == ["AchievementSubject"]
    assert subject["identifier"] == [{"type": "IdentityObject", "identityType": "name",
                                      "hashed": False, "identityHash": "Tess Trainee"}]
    achievement = subject["achievement"]
    assert achievement["type"] == ["Achievement"]
    assert achievement["name"] == "Mini curriculum"
    assert achievement["description"] == "A small curriculum for tests."
    assert achievement["creator"] == payload["issuer"]
    # The criteria are the standards version the sign-off was judged on, in words.
    narrative = achievement["criteria"]["narrative"]
    for words in ("ready to work with clients, against version 1 of the Mini curriculum",
                  "at least 80% of the scheduled training time",
                  "attended or made up every core session",
                  "passed the quizzes on: Listening, each pass no older than 12 months",
                  "at least 1 supervision session and 1 hour of supervision",
                  "signed the agreements: Confidentiality agreement, Code of conduct",
                  "rated competent: Listening", "rated developing: Keeping things private",
                  "Re-certification is due every 24 months"):
        assert words in narrative, words
    assert payload["credentialStatus"] == {
        "id": f"http://localhost/credentials/status/revocation#{certificate.id}",
        "type": "BitstringStatusListEntry", "statusPurpose": "revocation",
        "statusListIndex": str(certificate.id),
        "statusListCredential": "http://localhost/credentials/status/revocation"}
    # The JWT claims agree with the credential, and VC-JOSE-COSE forbids a "vc" claim.
    assert payload["iss"] == payload["issuer"]["id"] and payload["jti"] == payload["id"]
    assert payload["nbf"] == int(datetime(2026, 3, 12, 9, 30, tzinfo=UTC).timestamp())
    assert payload["exp"] == int(datetime(2028, 3, 13, tzinfo=UTC).timestamp())
    assert "vc" not in payload
    # Ed25519 is deterministic and the payload has no clock reading: every download is equal.
    assert download(client_for(trainee), certificate) == token


def test_the_achievement_address_serves_the_criteria_the_credential_names(
        client, client_for, trainee, issued, signing_key, standards):
    certificate = issued(trainee)
    _h, payload = verify(download(client_for(trainee), certificate), published_keys(client))
    embedded = payload["credentialSubject"]["achievement"]
    assert embedded["id"].endswith(f"/credentials/achievements/mini/{standards.number}")
    served = client.get(embedded["id"].replace("http://localhost", ""))
    assert served.status_code == 200
    assert {k: v for k, v in served.get_json().items() if k != "@context"} == embedded
    assert client.get("/credentials/achievements/mini/999").status_code == 404
    assert client.get("/credentials/achievements/nothing/1").status_code == 404


def test_tampered_and_foreign_credentials_are_rejected(client, client_for, trainee, issued,
                                                       signing_key):
    certificate = issued(trainee)
    token = download(client_for(trainee), certificate)
    keys = published_keys(client)
    header, payload, signature = token.split(".")
    verify(token, keys)  # the genuine one passes

    # A changed payload: another name on the same signature.
    claims = json.loads(unb64(payload))
    claims["credentialSubject"]["identifier"][0]["identityHash"] = "Mallory"
    forged = f"{header}.{b64(json.dumps(claims).encode())}.{signature}"
    with pytest.raises(JWException):
        verify(forged, keys)

    # A changed signature: one bit flipped.
    raw = bytearray(unb64(signature))
    raw[0] ^= 0x01
    with pytest.raises(JWException):
        verify(f"{header}.{payload}.{b64(bytes(raw))}", keys)

    # A changed header (the key id of no published key).
    other_header = {**json.loads(unb64(header)), "kid": "not-ours"}
    with pytest.raises(JWException):
        verify(f"{b64(json.dumps(other_header).encode())}.{payload}.{signature}", keys)

    # Signed by another Ed25519 key that claims our key id.
    stranger = JWK.generate(kty="OKP", crv="Ed25519")
    impostor = JWS(unb64(payload))
    impostor.add_signature(stranger, alg="EdDSA", protected=json.dumps(
        {"alg": "EdDSA", "typ": "vc+jwt", "cty": "vc", "kid": signing_key.kid}))
    with pytest.raises(JWException):
        verify(impostor.serialize(compact=True), keys)


def test_a_replaced_key_no_longer_verifies_old_credentials(client, client_for, trainee,
                                                           issued, key_file, signing_key):
    certificate = issued(trainee)
    old = download(client_for(trainee), certificate)
    signing_keys.create(key_file, force=True)
    keys = published_keys(client)
    with pytest.raises(JWException):
        verify(old, keys)
    verify(download(client_for(trainee), certificate), keys)  # a fresh download does


@pytest.mark.settings(LMS_PUBLIC_URL="https://training.example.org",
                      LMS_SITE_NAME="Example Peer Support", LMS_TIMEZONE="Africa/Nairobi")
def test_addresses_come_from_the_public_url_and_expiry_from_the_zone(client, client_for,
                                                                     trainee, issued,
                                                                     signing_key):
    certificate = issued(trainee, at=datetime(2026, 3, 12, 9, 30, tzinfo=UTC))
    _h, payload = verify(download(client_for(trainee), certificate), published_keys(client))
    assert payload["issuer"]["id"] == "https://training.example.org"
    assert payload["issuer"]["name"] == "Example Peer Support"
    assert payload["iss"] == "https://training.example.org"
    assert payload["credentialStatus"]["statusListCredential"] == \
        "https://training.example.org/credentials/status/revocation"
    # Valid through 12 March 2028 in Nairobi (UTC+3): until 21:00 UTC that day.
    assert payload["validUntil"] == "2028-03-12T21:00:00Z"


@pytest.mark.settings(LMS_URL_PREFIX="/training")
def test_the_key_set_lives_under_the_lms_prefix(app, client, signing_key):
    assert client.get("/.well-known/jwks.json").status_code == 404
    keys = JWKSet.from_json(client.get("/training/.well-known/jwks.json")
                            .get_data(as_text=True))
    assert keys.get_key(signing_key.kid) is not None
    status = client.get("/training/credentials/status/revocation").get_data(as_text=True)
    _h, payload = verify(status, keys)
    assert payload["iss"] == "http://localhost/training"


def test_valid_until_is_the_end_of_the_expiry_day_in_the_zone():
    assert credentials.valid_until(None, "UTC") is None
    assert credentials.timestamp(credentials.valid_until(date(2028, 1, 31), "America/New_York")) \
        == "2028-02-01T05:00:00Z"


# --- revocation -------------------------------------------------------------------------------


def test_the_status_list_bit_flips_on_revocation(client, client_for, db, trainee, make_person,
                                                 make_cohort, issued, signer, signing_key):
    mine = issued(trainee)
    other_trainee = make_person("trainee", name="Olive Other")
    make_cohort(other_trainee)
    theirs = issued(other_trainee)
    keys = published_keys(client)
    _h, credential = verify(download(client_for(trainee), mine), keys)
    index = int(credential["credentialStatus"]["statusListIndex"])

    bits, payload = status_bits(client, keys)
    assert len(bits) * 8 >= 131_072
    assert payload["id"] == credential["credentialStatus"]["statusListCredential"]
    assert payload["issuer"]["id"] == credential["issuer"]["id"]
    assert bit(bits, index) == 0 and bit(bits, theirs.id) == 0
    assert not any(bits)

    revoke(db, mine, signer)
    bits, _payload = status_bits(client, keys)
    assert bit(bits, index) == 1
    assert bit(bits, theirs.id) == 0
    assert sum(bin(byte).count("1") for byte in bits) == 1
    # The credential itself is unchanged: a verifier learns of the revocation from the list.
    assert download(client_for(trainee), mine).split(".")[1] == \
        credentials.sign(credential, signing_key).split(".")[1]


def test_the_status_list_is_built_in_one_query(app, db, trainee, make_person, make_cohort,
                                               issued, signer, count_queries):
    issuer = credentials.Issuer(id="https://x", name="X", status_list_url="https://x/s",
                                achievement_url=lambda slug, version: "https://x/a",
                                verify_url=lambda code: f"https://x/v/{code}")
    first = issued(trainee)
    with count_queries() as few:
        credentials.status_list_credential(db, issuer)
    for number in range(6):
        person = make_person("trainee", name=f"Trainee {number}")
        make_cohort(person)
        revoke(db, issued(person), signer)
    revoke(db, first, signer)
    db.expire_all()
    with count_queries() as many:
        found = credentials.status_list_credential(db, issuer)
    assert len(few) == len(many) == 1
    revoked, highest = credentials.revocation_facts(db)
    assert first.id in revoked and len(revoked) == 7
    assert found["credentialSubject"]["encodedList"].startswith("u")
    assert highest == max(revoked)


def test_the_list_grows_in_whole_blocks_to_cover_every_index():
    assert credentials.list_length(0) == 131_072
    assert credentials.list_length(131_071) == 131_072
    assert credentials.list_length(131_072) == 262_144
    encoded = credentials.encode_bits({0, 9, 131_073}, credentials.list_length(131_073))
    bits = gzip.decompress(unb64(encoded[1:]))
    assert len(bits) == 262_144 // 8
    assert [i for i in (0, 1, 8, 9, 131_072, 131_073) if bit(bits, i)] == [0, 9, 131_073]
    assert bits[0] == 0b1000_0000  # index 0 is the first byte's highest bit
    # The same list always encodes the same way (no timestamp in the GZIP header).
    assert credentials.encode_bits({5}, 131_072) == credentials.encode_bits({5}, 131_072)


# --- the PDF --------------------------------------------------------------------------------


def test_the_pdf_carries_the_signed_credential(client, client_for, trainee, issued,
                                               signing_key):
    pytest.importorskip("weasyprint")
    pypdf = pytest.importorskip("pypdf")
    certificate = issued(trainee)
    me = client_for(trainee)
    response = me.get(f"/my/certificates/{certificate.id}.pdf")
    assert response.status_code == 200
    attachments = pypdf.PdfReader(io.BytesIO(response.data)).attachments
    name = f"certificate-{certificates.grouped(certificate.code)}-open-badge.json"
    assert list(attachments) == [name]
    token = token_of(json.loads(attachments[name][0]))
    verify(token, published_keys(client))
    assert token == download(me, certificate)


def test_without_a_key_the_pdf_has_no_attachment(client_for, trainee, issued):
    pytest.importorskip("weasyprint")
    pypdf = pytest.importorskip("pypdf")
    certificate = issued(trainee)
    response = client_for(trainee).get(f"/my/certificates/{certificate.id}.pdf")
    assert response.status_code == 200
    assert not pypdf.PdfReader(io.BytesIO(response.data)).attachments


# --- who may download what ------------------------------------------------------------------


def test_the_certificates_page_offers_the_json_only_with_a_key(client_for, trainee, issued,
                                                               key_file):
    certificate = issued(trainee)
    me = client_for(trainee)
    link = f'href="/my/certificates/{certificate.id}.json"'
    page = me.get("/my/certificates").get_data(as_text=True)
    assert link not in page and "Open Badge" not in page
    signing_keys.create(key_file)
    page = me.get("/my/certificates").get_data(as_text=True)
    assert link in page and "Download as an Open Badge (JSON)" in page


def test_another_trainees_credential_is_not_found(client_for, make_person, make_cohort, trainee,
                                                  issued, signing_key):
    theirs = issued(trainee)
    other = make_person("trainee", name="Olive Other")
    make_cohort(other)
    client = client_for(other)
    assert client.get(f"/my/certificates/{theirs.id}.json").status_code == 404
    assert client.get("/my/certificates/999999.json").status_code == 404
    assert client.get("/my/certificates/99999999999.json").status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(client, trainee, issued, signing_key):
    certificate = issued(trainee)
    response = client.get(f"/my/certificates/{certificate.id}.json")
    assert response.status_code == 302 and "/login" in response.location


@pytest.mark.parametrize("role", ["trainer", "supervisor", "admin"])
def test_other_roles_are_refused_the_download(client_for, make_person, trainee, issued,
                                              signing_key, role):
    certificate = issued(trainee)
    response = client_for(make_person(role)).get(f"/my/certificates/{certificate.id}.json")
    assert response.status_code == 403


# --- without a key --------------------------------------------------------------------------


def test_without_a_key_the_credential_addresses_say_why_and_nothing_else_breaks(
        client, client_for, trainee, issued):
    certificate = issued(trainee)
    for url in ("/.well-known/jwks.json", "/credentials/status/revocation",
                "/credentials/achievements/mini/1"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "lms keys create" in response.get_json()["error"]
    me = client_for(trainee)
    response = me.get(f"/my/certificates/{certificate.id}.json")
    assert response.status_code == 503
    assert "no working signing key" in response.get_data(as_text=True)
    assert me.get("/my/certificates").status_code == 200
    assert client.get(f"/verify/{certificate.code}").status_code == 200


def test_an_unusable_key_is_a_503_and_is_logged(client, client_for, trainee, issued, key_file,
                                                caplog):
    certificate = issued(trainee)
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key_file.write_text("{ not a key")
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 503
    assert str(key_file) not in response.get_data(as_text=True)  # no server path shown
    assert "signing key cannot be used" in caplog.text
    me = client_for(trainee)
    assert me.get(f"/my/certificates/{certificate.id}.json").status_code == 503
    page = me.get("/my/certificates")
    assert page.status_code == 200 and "Open Badge" not in page.get_data(as_text=True)
