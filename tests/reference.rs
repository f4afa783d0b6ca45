//! The language reference: `docs/reference.md` is exactly what `rlc doc` prints (so it
//! documents every builtin of the compiler's table and every standard-library function),
//! and `rlc doc NAME` answers for one of them.

mod common;

use common::rlc;

#[test]
fn docs_reference_md_is_what_rlc_doc_prints() {
    let out = rlc(&["doc"]);
    assert!(out.status.success());
    let generated = String::from_utf8(out.stdout).unwrap();
    let file = std::fs::read_to_string(common::root().join("docs/reference.md")).unwrap();
    assert!(
        generated == file,
        "docs/reference.md is out of date: regenerate it with `rlc doc > docs/reference.md`"
    );
    for b in rlc_compiler::builtins::Builtin::ALL {
        assert!(
            file.contains(&format!("| `{}(", b.name())),
            "builtin `{}` has no entry",
            b.name()
        );
    }
    // Every library function of stdlib/ has an entry with its comment.
    for path in std::fs::read_dir(common::stdlib())
        .unwrap()
        .flatten()
        .map(|e| e.path())
    {
        let text = std::fs::read_to_string(&path).unwrap();
        if text.lines().any(|l| l.starts_with("algorithm ")) {
            continue;
        }
        for l in text.lines().filter(|l| l.starts_with("fn ")) {
            let name: String = l[3..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let row = file
                .lines()
                .find(|r| r.starts_with(&format!("| `{name}(")))
                .unwrap_or_else(|| panic!("`{name}` of {} has no entry", path.display()));
            assert!(!row.ends_with("|  |"), "`{name}` has no description: {row}");
        }
    }
}

#[test]
fn rlc_doc_answers_for_one_name_and_suggests_for_unknown_ones() {
    let out = rlc(&["doc", "pick"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(
        text.starts_with("pick(x, a)\n") && text.contains("per row"),
        "{text}"
    );
    let out = rlc(&["doc", "gae"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("stdlib/traces.rl") && text.contains("GAE"),
        "{text}"
    );
    let out = rlc(&["doc", "take_alnog"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean `take_along`?"));
}
