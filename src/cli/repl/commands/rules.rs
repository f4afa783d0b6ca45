//! `:rule NAME`: an update or target rule as the loaded program uses it — where it is written,
//! the state it keeps (per parameter and shared), and the nodes of `train` it computes.

use super::args::{Failure, Res, find_entry};
use crate::cli::repl::format::count;
use crate::cli::repl::session::{Reply, Session};
use rlc_compiler::diag::did_you_mean;
use rlc_compiler::ir::{StateKind, print_graph_with_states};
use std::collections::HashSet;
use std::fmt::Write;

/// `:rule NAME`.
pub(super) fn rule(s: &mut Session, rest: &str) -> Res {
    let [name] = rest.split_whitespace().collect::<Vec<_>>()[..] else {
        return Err(Failure::Usage);
    };
    let p = s.program()?;
    let loaded = s.loaded.as_ref().expect("a program is loaded");
    let mods = &loaded.driver.mods;
    let found = mods.all().find_map(|(_, m)| m.find_rule(name));
    let Some(decl) = found else {
        let names: Vec<&str> = mods
            .all()
            .flat_map(|(_, m)| m.ast.rules.iter().map(|r| r.name.name.as_str()))
            .collect();
        let mut t = format!("error: no update rule `{name}` is loaded\n");
        if let Some(h) = did_you_mean(name, names.iter().copied()) {
            let _ = writeln!(t, "  help: {h}");
        }
        let _ = writeln!(t, "  note: rules: {}", names.join(", "));
        return Err(Failure::Reply(Reply::err(t)));
    };
    let (line, _) = mods.sources.line_col(decl.span);
    let file = &mods.sources.file(decl.span.file).name;
    let kind = if decl.for_target {
        "target rule"
    } else {
        "update rule"
    };
    let mut t = format!("{kind} `{name}` ({file}:{line})\n");
    // Its state, grouped as the checkpoint names it.
    let (mut per, mut shared, mut values) = (Vec::new(), Vec::new(), 0usize);
    for (_, v) in p.states.iter() {
        if let StateKind::Rule { rule, of, .. } = &v.kind
            && rule == name
        {
            values += v.ty.numel();
            match of {
                Some(_) => per.push(format!("{}: {}", v.name, v.ty)),
                None => shared.push(format!("{}: {}", v.name, v.ty)),
            }
        }
    }
    if per.is_empty() && shared.is_empty() {
        let _ = writeln!(
            t,
            "  state: none in this program (it is not used, or keeps no state)"
        );
    } else {
        let _ = writeln!(t, "  state: {} values", count(values));
        if !shared.is_empty() {
            let _ = writeln!(t, "    shared by an update: {}", shared.join(", "));
        }
        if !per.is_empty() {
            let _ = writeln!(t, "    per parameter ({}): {}", per.len(), per.join(", "));
        }
    }
    // The nodes of `train` traced from the rule's body (their origin lies inside it).
    let e = find_entry(p, "train")?;
    let g = &e.graph;
    let inside: HashSet<usize> = g
        .ids()
        .filter(|i| {
            g.node(*i).origin.as_ref().is_some_and(|o| {
                o.span.file == decl.span.file
                    && o.span.start >= decl.span.start
                    && o.span.end <= decl.span.end
            })
        })
        .map(|i| i.index())
        .collect();
    let _ = writeln!(
        t,
        "  computes {} of the {} nodes of `train`:",
        inside.len(),
        g.len()
    );
    let text = print_graph_with_states(g, &e.name, &p.states);
    for l in text.lines() {
        let id = |s: &str| {
            s.trim_start_matches('%')
                .split(|c: char| !c.is_ascii_digit())
                .next()
                .and_then(|d| d.parse::<usize>().ok())
        };
        let l2 = l.trim_start();
        let keep = match l2.split_whitespace().collect::<Vec<_>>()[..] {
            [first, "=", ..] => id(first).is_some_and(|i| inside.contains(&i)),
            ["assign", _, v, ..] => id(v).is_some_and(|i| inside.contains(&i)),
            _ => false,
        };
        if keep {
            let _ = writeln!(t, "  {l}");
        }
    }
    Ok(Reply::ok(t))
}
