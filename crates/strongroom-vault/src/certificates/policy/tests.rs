//! Policy resolution: the SDK's default policy gets Key Vault's defaults, every refusal has its
//! message, and an update changes only the members it names.

use super::*;

fn sdk_default() -> PolicyInput {
    // What `CertificatePolicy.get_default()` sends (CLIENT-PROTOCOL.md 5.1).
    PolicyInput {
        x509: Some(X509Input {
            subject: Some("CN=DefaultPolicy".to_owned()),
            sans: Some(SansInput::default()),
            ..X509Input::default()
        }),
        issuer: Some(IssuerInput {
            name: Some("Self".to_owned()),
            ..IssuerInput::default()
        }),
        ..PolicyInput::default()
    }
}

fn refused(input: &PolicyInput) -> String {
    match CertificatePolicy::for_create(input) {
        Err(VaultError::InvalidParameter(message)) => message,
        other => panic!("expected InvalidParameter, got {other:?}"),
    }
}

#[test]
fn the_sdk_default_policy_gets_key_vaults_defaults() {
    let policy = CertificatePolicy::for_create(&sdk_default()).unwrap();
    assert_eq!(
        policy.key,
        KeySpec {
            key_type: KeyType::Rsa,
            size: Some(2048),
            curve: None,
            exportable: true,
            reuse_key: false,
        }
    );
    assert_eq!(policy.content_type, SecretContentType::Pkcs12);
    assert_eq!(policy.x509.subject, "CN=DefaultPolicy");
    assert_eq!(policy.x509.ekus, DEFAULT_EKUS);
    assert_eq!(policy.x509.key_usage, DEFAULT_USAGES);
    assert_eq!(policy.x509.validity_months, 12);
    assert_eq!(
        policy.lifetime_actions,
        [LifetimeAction {
            trigger: Trigger::LifetimePercentage(80),
            action: LifetimeActionType::AutoRenew,
        }]
    );
    assert!(policy.issuer.is_self() && policy.enabled);
}

#[test]
fn unknown_issuer_defaults_to_email_and_refuses_auto_renew() {
    let mut input = sdk_default();
    input.issuer = Some(IssuerInput {
        name: Some("unknown".to_owned()),
        ..IssuerInput::default()
    });
    let policy = CertificatePolicy::for_create(&input).unwrap();
    assert!(policy.issuer.is_unknown());
    assert_eq!(
        policy.lifetime_actions[0].action,
        LifetimeActionType::EmailContacts
    );
    input.lifetime_actions = Some(vec![LifetimeActionInput {
        lifetime_percentage: Some(50),
        action_type: Some("AutoRenew".to_owned()),
        ..LifetimeActionInput::default()
    }]);
    assert!(refused(&input).contains("AutoRenew is not supported"));
}

#[test]
fn ec_keys_get_a_curve_and_signing_usage() {
    let mut input = sdk_default();
    input.key = Some(KeyInput {
        key_type: Some("EC".to_owned()),
        ..KeyInput::default()
    });
    let policy = CertificatePolicy::for_create(&input).unwrap();
    assert_eq!(
        (policy.key.size, policy.key.curve),
        (None, Some(Curve::P256))
    );
    assert_eq!(policy.x509.key_usage, [KeyUsage::DigitalSignature]);
    input.key = Some(KeyInput {
        key_type: Some("EC-HSM".to_owned()),
        curve: Some("P-384".to_owned()),
        ..KeyInput::default()
    });
    let policy = CertificatePolicy::for_create(&input).unwrap();
    assert_eq!(policy.key.key_type, KeyType::EcHsm);
    assert_eq!(policy.key.curve, Some(Curve::P384));
}

#[test]
fn refusals() {
    let with = |change: &dyn Fn(&mut PolicyInput)| {
        let mut input = sdk_default();
        change(&mut input);
        refused(&input)
    };
    let key = |key_type: &str, size: Option<i64>, curve: Option<&str>| {
        let key = KeyInput {
            key_type: Some(key_type.to_owned()),
            size,
            curve: curve.map(str::to_owned),
            ..KeyInput::default()
        };
        move |input: &mut PolicyInput| input.key = Some(key.clone())
    };
    let cases: Vec<(String, &str)> = vec![
        (
            with(&key("oct", None, None)),
            "is not supported for certificates",
        ),
        (
            with(&key("RSA", Some(1024), None)),
            "Unsupported key size (1024). Supported sizes are [2048, 3072, 4096]",
        ),
        // AZURE-ERRORS.md 6.12: the size of an EC policy.
        (
            with(&key("EC", Some(4096), None)),
            "Unsupported key size (4096). Supported sizes are [256, 384, 521]",
        ),
        (
            with(&key("EC", None, Some("P-256K"))),
            "'P-256K' is not supported for certificates",
        ),
        (
            with(&key("RSA", None, Some("P-256"))),
            "cannot be used with key type RSA",
        ),
        (
            with(&|i: &mut PolicyInput| i.content_type = Some("text/plain".to_owned())),
            "content type 'text/plain'",
        ),
        (
            with(&|i: &mut PolicyInput| i.issuer = None),
            "must name an issuer",
        ),
        (
            with(&|i: &mut PolicyInput| {
                i.x509 = Some(X509Input {
                    subject: Some(" ".to_owned()),
                    ..X509Input::default()
                });
            }),
            "a subject or at least one subject alternative name",
        ),
        (
            with(&|i: &mut PolicyInput| {
                i.x509.as_mut().unwrap().validity_months = Some(0);
            }),
            "between 1 and 1200 months",
        ),
        (
            with(&|i: &mut PolicyInput| {
                i.x509.as_mut().unwrap().ekus = Some(vec!["serverAuth".to_owned()]);
            }),
            "'serverAuth' is not an object identifier",
        ),
        (
            with(&|i: &mut PolicyInput| {
                i.x509.as_mut().unwrap().key_usage = Some(vec!["DigitalSignature".to_owned()]);
            }),
            "key usage 'DigitalSignature'",
        ),
        (
            with(&|i: &mut PolicyInput| {
                i.lifetime_actions = Some(vec![LifetimeActionInput {
                    lifetime_percentage: Some(100),
                    action_type: Some("AutoRenew".to_owned()),
                    ..LifetimeActionInput::default()
                }]);
            }),
            "between 1 and 99",
        ),
        (
            with(&|i: &mut PolicyInput| {
                i.lifetime_actions = Some(vec![LifetimeActionInput {
                    days_before_expiry: Some(400),
                    action_type: Some("EmailContacts".to_owned()),
                    ..LifetimeActionInput::default()
                }]);
            }),
            "less than the certificate's validity",
        ),
        (
            with(&|i: &mut PolicyInput| {
                i.lifetime_actions = Some(vec![LifetimeActionInput::default()]);
            }),
            "needs a trigger",
        ),
        (
            with(&|i: &mut PolicyInput| {
                let action = LifetimeActionInput {
                    lifetime_percentage: Some(50),
                    action_type: Some("EmailContacts".to_owned()),
                    ..LifetimeActionInput::default()
                };
                i.lifetime_actions = Some(vec![action.clone(), action]);
            }),
            "at most one lifetime action",
        ),
    ];
    for (message, wanted) in cases {
        assert!(message.contains(wanted), "{message:?} lacks {wanted:?}");
    }
}

#[test]
fn an_update_changes_only_what_it_names() {
    let mut input = sdk_default();
    input.x509.as_mut().unwrap().sans = Some(SansInput {
        dns_names: vec!["a.example".to_owned()],
        ..SansInput::default()
    });
    input.key = Some(KeyInput {
        key_type: Some("RSA".to_owned()),
        size: Some(4096),
        ..KeyInput::default()
    });
    let stored = CertificatePolicy::for_create(&input).unwrap();

    let update = PolicyInput {
        content_type: Some("application/x-pem-file".to_owned()),
        x509: Some(X509Input {
            validity_months: Some(24),
            ..X509Input::default()
        }),
        ..PolicyInput::default()
    };
    let updated = stored.updated(&update).unwrap();
    assert_eq!(updated.content_type, SecretContentType::Pem);
    assert_eq!(updated.x509.validity_months, 24);
    assert_eq!(updated.x509.dns_names, ["a.example"], "SANs kept");
    assert_eq!(updated.key.size, Some(4096), "key kept");
    assert_eq!(updated.issuer, stored.issuer);
    assert_eq!(updated.lifetime_actions, stored.lifetime_actions);

    // Switching to EC drops the RSA size and takes the default curve.
    let to_ec = PolicyInput {
        key: Some(KeyInput {
            key_type: Some("EC".to_owned()),
            ..KeyInput::default()
        }),
        ..PolicyInput::default()
    };
    let ec = stored.updated(&to_ec).unwrap();
    assert_eq!((ec.key.size, ec.key.curve), (None, Some(Curve::P256)));
    assert_eq!(
        ec.x509.key_usage, stored.x509.key_usage,
        "usages kept as stored"
    );
}

#[test]
fn oids_are_checked_by_shape() {
    for good in ["1.3.6.1.5.5.7.3.1", "2.5", "1.3.6.1.4.1.311.20.2.3"] {
        assert!(is_dotted_oid(good), "{good}");
    }
    for bad in ["", "1", "1..2", "1.02", "a.b", "1.3.6.1 ", "1.-3"] {
        assert!(!is_dotted_oid(bad), "{bad:?}");
    }
}
