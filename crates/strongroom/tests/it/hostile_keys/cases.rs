//! The hostile requests of `hostile_keys`, one builder per endpoint: what each sends and
//! under which label it appears in `table.txt`.

use serde_json::{Value, json};

/// JSON nested this deep: far past serde_json's recursion limit (128) and deep enough to
/// overflow a stack if anything recursed over it without one.
const DEPTH: usize = 100_000;

/// One hostile request: a label for the table, method, path (without the query), body.
pub(super) struct Case {
    pub(super) label: String,
    pub(super) method: &'static str,
    pub(super) path: String,
    pub(super) body: Vec<u8>,
}

fn case(
    label: impl Into<String>,
    method: &'static str,
    path: &str,
    body: impl Into<Vec<u8>>,
) -> Case {
    Case {
        label: label.into(),
        method,
        path: path.to_owned(),
        body: body.into(),
    }
}

/// base64url without padding, as Key Vault writes binary fields.
fn b64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, byte)| n | u32::from(*byte) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

/// `n_bytes` bytes of 0xff, base64url.
pub(super) fn ones_b64(n_bytes: usize) -> String {
    b64url(&vec![0xff; n_bytes])
}

/// A base64url value of 32 KiB (24 KiB decoded).
fn b64_32k() -> String {
    "QUFB".repeat(8 * 1024)
}

fn nested_arrays() -> String {
    format!("{}{}", "[".repeat(DEPTH), "]".repeat(DEPTH))
}

fn nested_objects() -> String {
    format!("{}1{}", r#"{"a":"#.repeat(DEPTH), "}".repeat(DEPTH))
}

/// Bodies that are wrong before any member is looked at, for every endpoint with a body.
/// `field` is a member the endpoint reads; the nested cases put the depth where the parser
/// must go through it (a known member, or an ignored one followed by a wrong known one).
fn shapeless(label: &str, method: &'static str, path: &str, field: &str) -> Vec<Case> {
    vec![
        case(
            format!("{label}: malformed JSON"),
            method,
            path,
            format!(r#"{{"{field}":"#),
        ),
        case(format!("{label}: empty body"), method, path, ""),
        case(format!("{label}: JSON array"), method, path, "[1,2]"),
        case(format!("{label}: JSON null"), method, path, "null"),
        case(format!("{label}: JSON string"), method, path, r#""RS256""#),
        case(
            format!("{label}: invalid UTF-8"),
            method,
            path,
            [format!(r#"{{"{field}":""#).as_bytes(), b"\xff\xfe\"}"].concat(),
        ),
        case(
            format!("{label}: {field} nested {DEPTH} deep"),
            method,
            path,
            format!(r#"{{"{field}":{}}}"#, nested_arrays()),
        ),
        case(
            format!("{label}: unknown member nested {DEPTH} deep, then {field} wrong"),
            method,
            path,
            format!(r#"{{"zzz":{},"{field}":{{}}}}"#, nested_objects()),
        ),
    ]
}

/// A key the test created: its name, its version and the algorithms that suit it.
pub(super) struct TestKey {
    pub(super) name: &'static str,
    pub(super) version: String,
    pub(super) sign_alg: &'static str,
    pub(super) other_family_sign_alg: &'static str,
    pub(super) digest_len: usize,
}

/// The cases of one cryptographic endpoint on one key.
pub(super) fn crypto_cases(key: &TestKey, endpoint: &str) -> Vec<Case> {
    let path = format!("/keys/{}/{}/{endpoint}", key.name, key.version);
    let label = format!("{endpoint} [{}]", key.name);
    let field = if endpoint == "release" {
        "target"
    } else {
        "alg"
    };
    let mut cases = shapeless(&label, "POST", &path, field);
    if endpoint.starts_with("secure") {
        // A Standard vault refuses these before reading the body; the shapeless bodies show
        // that nothing in them gets further.
        return cases;
    }
    let body = |what: &str, value: Value| {
        case(format!("{label}: {what}"), "POST", &path, value.to_string())
    };
    if endpoint == "release" {
        cases.extend([
            body("target is a number", json!({"target": 5})),
            body("target missing", json!({})),
            body("target empty", json!({"target": ""})),
            body("32 KiB target", json!({"target": b64_32k()})),
            body("nonce is an object", json!({"target": "x", "nonce": {}})),
        ]);
        return cases;
    }
    let alg = match endpoint {
        "sign" | "verify" => key.sign_alg,
        _ => "RSA-OAEP",
    };
    let digest = ones_b64(key.digest_len);
    cases.extend([
        body(
            "alg is a number",
            json!({"alg": 5, "value": "AAAA", "digest": digest}),
        ),
        body(
            "alg is an array",
            json!({"alg": [alg], "value": "AAAA", "digest": digest}),
        ),
        body(
            "value is a number",
            json!({"alg": alg, "value": 123, "digest": digest}),
        ),
        body(
            "value is an object",
            json!({"alg": alg, "value": {"x": 1}, "digest": digest}),
        ),
        body("alg missing", json!({"value": "AAAA", "digest": digest})),
        body(
            "alg null",
            json!({"alg": null, "value": "AAAA", "digest": digest}),
        ),
        body(
            "alg unknown",
            json!({"alg": "ROT13", "value": "AAAA", "digest": digest}),
        ),
        body(
            "alg empty",
            json!({"alg": "", "value": "AAAA", "digest": digest}),
        ),
        body("value missing", json!({"alg": alg, "digest": digest})),
        body(
            "value bad base64url",
            json!({"alg": alg, "value": "!!not base64!!", "digest": digest}),
        ),
        body(
            "value 32 KiB",
            json!({"alg": alg, "value": b64_32k(), "digest": digest}),
        ),
    ]);
    match endpoint {
        "sign" => cases.extend([
            // serde fills a struct from an array by position; Azure wants an object.
            body("a valid request as an array", json!([alg, digest])),
            body(
                "digest 1 byte short",
                json!({"alg": alg, "value": ones_b64(key.digest_len - 3)}),
            ),
            body(
                "digest 3 bytes long",
                json!({"alg": alg, "value": ones_b64(key.digest_len + 3)}),
            ),
            body("digest empty", json!({"alg": alg, "value": ""})),
            body(
                "alg of the other key type",
                json!({"alg": key.other_family_sign_alg, "value": digest}),
            ),
        ]),
        "verify" => cases.extend([
            body("digest missing", json!({"alg": alg, "value": "AAAA"})),
            body(
                "digest bad base64url",
                json!({"alg": alg, "value": "AAAA", "digest": "%%%"}),
            ),
            body(
                "digest 3 bytes short",
                json!({"alg": alg, "value": "AAAA", "digest": ones_b64(key.digest_len - 3)}),
            ),
            body(
                "digest 32 KiB",
                json!({"alg": alg, "value": "AAAA", "digest": b64_32k()}),
            ),
            body(
                "alg of the other key type",
                json!({"alg": key.other_family_sign_alg, "value": "AAAA", "digest": digest}),
            ),
        ]),
        "encrypt" | "decrypt" => cases.extend([
            body(
                "iv bad base64url",
                json!({"alg": alg, "value": "AAAA", "iv": "!!"}),
            ),
            body(
                "RSA with an iv and tag",
                json!({"alg": alg, "value": "AAAA", "iv": "AAAA", "tag": "AAAA"}),
            ),
            body("AES alg", json!({"alg": "A256GCM", "value": "AAAA"})),
            body(
                "aad 32 KiB",
                json!({"alg": alg, "value": "AAAA", "aad": b64_32k()}),
            ),
        ]),
        "wrapkey" | "unwrapkey" => cases.extend([body(
            "AES key wrap alg",
            json!({"alg": "A256KW", "value": "AAAA"}),
        )]),
        _ => {}
    }
    // Ciphertext that cannot be: empty. (An empty plaintext or key to wrap is fine for RSA.)
    if matches!(endpoint, "decrypt" | "unwrapkey") {
        cases.push(body("ciphertext empty", json!({"alg": alg, "value": ""})));
    }
    cases
}

fn tags(n: usize, value_len: usize) -> Value {
    (0..n)
        .map(|i| (format!("t{i}"), Value::String("v".repeat(value_len))))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

pub(super) fn create_cases() -> Vec<Case> {
    let path = "/keys/created/create";
    let mut cases = shapeless("create", "POST", path, "kty");
    let body =
        |what: &str, value: Value| case(format!("create: {what}"), "POST", path, value.to_string());
    cases.extend([
        body("kty missing", json!({})),
        body("kty is a number", json!({"kty": 5})),
        body("kty unknown", json!({"kty": "DSA"})),
        body("kty oct on a standard vault", json!({"kty": "oct"})),
        body("kty RSA-HSM on a standard vault", json!({"kty": "RSA-HSM"})),
        body(
            "key_size 1000000",
            json!({"kty": "RSA", "key_size": 1_000_000}),
        ),
        body("key_size 1024", json!({"kty": "RSA", "key_size": 1024})),
        body("key_size 0", json!({"kty": "RSA", "key_size": 0})),
        body("key_size -2048", json!({"kty": "RSA", "key_size": -2048})),
        body(
            "key_size i64::MAX",
            json!({"kty": "RSA", "key_size": i64::MAX}),
        ),
        body(
            "key_size u64::MAX",
            json!({"kty": "RSA", "key_size": u64::MAX}),
        ),
        body(
            "key_size a string",
            json!({"kty": "RSA", "key_size": "2048"}),
        ),
        body("key_size 2048.5", json!({"kty": "RSA", "key_size": 2048.5})),
        case(
            "create: key_size 1e400",
            "POST",
            path,
            r#"{"kty":"RSA","key_size":1e400}"#,
        ),
        body(
            "public_exponent 3",
            json!({"kty": "RSA", "public_exponent": 3}),
        ),
        body(
            "public_exponent -65537",
            json!({"kty": "RSA", "public_exponent": -65537}),
        ),
        body(
            "EC with key_size 1000000",
            json!({"kty": "EC", "key_size": 1_000_000, "crv": "P-999"}),
        ),
        body("crv unknown", json!({"kty": "EC", "crv": "P-999"})),
        body("crv is a number", json!({"kty": "EC", "crv": 256})),
        body("key_ops unknown", json!({"kty": "RSA", "key_ops": ["fly"]})),
        body("key_ops a string", json!({"kty": "RSA", "key_ops": "sign"})),
        body(
            "nbf after exp",
            json!({"kty": "RSA", "attributes": {"nbf": 2_000_000_000, "exp": 1_000_000_000}}),
        ),
        body(
            "exp a string",
            json!({"kty": "RSA", "attributes": {"exp": "tomorrow"}}),
        ),
        body("16 tags", json!({"kty": "RSA", "tags": tags(16, 1)})),
        body(
            "a 32 KiB tag value",
            json!({"kty": "RSA", "tags": tags(1, 32 * 1024)}),
        ),
        body("tags an array", json!({"kty": "RSA", "tags": ["a"]})),
        body(
            "exportable without a policy",
            json!({"kty": "RSA", "attributes": {"exportable": true}}),
        ),
        body(
            "release_policy data bad base64url",
            json!({"kty": "RSA", "release_policy": {"data": "!!"}}),
        ),
        case(
            format!("create: attestation nested {DEPTH} deep"),
            "POST",
            path,
            format!(
                r#"{{"kty":"RSA","attributes":{{"attestation":{}}}}}"#,
                nested_arrays()
            ),
        ),
    ]);
    cases
}

pub(super) fn import_cases() -> Vec<Case> {
    let path = "/keys/imported";
    let mut cases = shapeless("import", "PUT", path, "key");
    let body =
        |what: &str, value: Value| case(format!("import: {what}"), "PUT", path, value.to_string());
    // Parts of the right sizes for RSA-2048 that do not make a key.
    let garbage_rsa = json!({
        "kty": "RSA", "n": ones_b64(258), "e": "AQAB", "d": ones_b64(258), "p": ones_b64(129),
        "q": ones_b64(129), "dp": ones_b64(129), "dq": ones_b64(129), "qi": ones_b64(129),
    });
    cases.extend([
        body("key missing", json!({})),
        body("key a number", json!({"key": 5})),
        body("kty missing", json!({"key": {}})),
        body("kty unknown", json!({"key": {"kty": "DSA"}})),
        body("RSA without material", json!({"key": {"kty": "RSA"}})),
        body("RSA public key only", json!({"key": {"kty": "RSA", "n": ones_b64(258), "e": "AQAB"}})),
        body("n bad base64url", json!({"key": {"kty": "RSA", "n": "!!", "e": "AQAB"}})),
        body("d a number", json!({"key": {"kty": "RSA", "n": "AQAB", "e": "AQAB", "d": 5}})),
        body("RSA parts that make no key", json!({"key": garbage_rsa})),
        body("n 32 KiB", json!({"key": {"kty": "RSA", "n": b64_32k(), "e": "AQAB", "d": b64_32k(), "p": "AQAB", "q": "AQAB", "dp": "AQAB", "dq": "AQAB", "qi": "AQAB"}})),
        body("EC point not on the curve", json!({"key": {"kty": "EC", "crv": "P-256", "x": ones_b64(33), "y": ones_b64(33), "d": ones_b64(33)}})),
        body("EC crv unknown", json!({"key": {"kty": "EC", "crv": "P-999", "x": "AAAA", "y": "AAAA", "d": "AAAA"}})),
        body("EC without d", json!({"key": {"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"}})),
        body("oct on a standard vault", json!({"key": {"kty": "oct", "k": ones_b64(33)}})),
        body("Hsm a string", json!({"Hsm": "yes", "key": {"kty": "RSA"}})),
        body("Hsm true on a standard vault", json!({"Hsm": true, "key": garbage_rsa})),
        body("key_ops unknown", json!({"key": {"kty": "RSA", "key_ops": ["fly"], "n": "AQAB", "e": "AQAB"}})),
    ]);
    cases
}

pub(super) fn update_cases(rsa: &TestKey) -> Vec<Case> {
    let path = format!("/keys/{}/{}", rsa.name, rsa.version);
    let mut cases = shapeless("update", "PATCH", &path, "key_ops");
    let body = |what: &str, value: Value| {
        case(format!("update: {what}"), "PATCH", &path, value.to_string())
    };
    cases.extend([
        body("key_ops a string", json!({"key_ops": "sign"})),
        body("key_ops unknown", json!({"key_ops": ["fly"]})),
        body(
            "enabled a string",
            json!({"attributes": {"enabled": "yes"}}),
        ),
        body(
            "nbf after exp",
            json!({"attributes": {"nbf": 2_000_000_000, "exp": 1_000_000_000}}),
        ),
        body("tags a string", json!({"tags": "x"})),
        body("16 tags", json!({"tags": tags(16, 1)})),
        body("release_policy without data", json!({"release_policy": {}})),
        body(
            "release_policy data bad base64url",
            json!({"release_policy": {"data": "!!"}}),
        ),
        body(
            "exportable without a policy",
            json!({"attributes": {"exportable": true}}),
        ),
    ]);
    cases.push(case(
        "update: version not 32 hex",
        "PATCH",
        &format!("/keys/{}/zzz", rsa.name),
        "{}",
    ));
    cases
}

pub(super) fn rotation_policy_cases(rsa: &TestKey) -> Vec<Case> {
    let path = format!("/keys/{}/rotationpolicy", rsa.name);
    let mut cases = shapeless("rotationpolicy", "PUT", &path, "lifetimeActions");
    let body = |what: &str, value: Value| {
        case(
            format!("rotationpolicy: {what}"),
            "PUT",
            &path,
            value.to_string(),
        )
    };
    let action = |trigger: Value, kind: &str| json!({"trigger": trigger, "action": {"type": kind}});
    cases.extend([
        body("lifetimeActions a string", json!({"lifetimeActions": "x"})),
        body("trigger empty", json!({"lifetimeActions": [action(json!({}), "Rotate")]})),
        body("both triggers", json!({"lifetimeActions": [action(json!({"timeAfterCreate": "P90D", "timeBeforeExpiry": "P30D"}), "Rotate")]})),
        body("action type unknown", json!({"lifetimeActions": [action(json!({"timeAfterCreate": "P90D"}), "Explode")]})),
        body("action missing", json!({"lifetimeActions": [{"trigger": {"timeAfterCreate": "P90D"}}]})),
        body("trigger P1D", json!({"lifetimeActions": [action(json!({"timeAfterCreate": "P1D"}), "Rotate")]})),
        body("trigger overflows", json!({"lifetimeActions": [action(json!({"timeAfterCreate": "P99999999999999999D"}), "Rotate")]})),
        body("trigger not ISO 8601", json!({"lifetimeActions": [action(json!({"timeAfterCreate": "90 days"}), "Rotate")]})),
        body("trigger a number", json!({"lifetimeActions": [action(json!({"timeAfterCreate": 90}), "Rotate")]})),
        body("two rotate actions", json!({"lifetimeActions": [action(json!({"timeAfterCreate": "P90D"}), "Rotate"), action(json!({"timeAfterCreate": "P60D"}), "Rotate")]})),
        body("notify after create", json!({"lifetimeActions": [action(json!({"timeAfterCreate": "P90D"}), "Notify")]})),
        body("expiryTime P1D", json!({"attributes": {"expiryTime": "P1D"}})),
        body("expiryTime not ISO 8601", json!({"attributes": {"expiryTime": "forever"}})),
        body("expiryTime a number", json!({"attributes": {"expiryTime": 5}})),
    ]);
    cases.push(case(
        "rotationpolicy: key does not exist",
        "PUT",
        "/keys/nokey/rotationpolicy",
        json!({"attributes": {"expiryTime": "P90D"}}).to_string(),
    ));
    cases
}

pub(super) fn restore_cases(secret_backup: &str) -> Vec<Case> {
    let path = "/keys/restore";
    let mut cases = shapeless("restore", "POST", path, "value");
    let body = |what: &str, value: Value| {
        case(format!("restore: {what}"), "POST", path, value.to_string())
    };
    cases.extend([
        body("value missing", json!({})),
        body("value a number", json!({"value": 5})),
        body("value bad base64url", json!({"value": "!!"})),
        body("value four bytes", json!({"value": "AAAA"})),
        body("value 32 KiB", json!({"value": b64_32k()})),
        body("a secret's backup", json!({"value": secret_backup})),
    ]);
    cases
}

pub(super) fn rng_cases() -> Vec<Case> {
    let path = "/rng";
    let mut cases = shapeless("rng", "POST", path, "count");
    let body =
        |what: &str, value: Value| case(format!("rng: {what}"), "POST", path, value.to_string());
    cases.extend([
        body("count missing", json!({})),
        body("a valid request as an array", json!([4])),
        body("count null", json!({"count": null})),
        body("count -1", json!({"count": -1})),
        body("count 0", json!({"count": 0})),
        body("count 129", json!({"count": 129})),
        body("count 10^12", json!({"count": 1_000_000_000_000_i64})),
        body("count i64::MIN", json!({"count": i64::MIN})),
        body("count 4.5", json!({"count": 4.5})),
        body("count a string", json!({"count": "4"})),
        case("rng: count 1e400", "POST", path, r#"{"count":1e400}"#),
    ]);
    cases
}
