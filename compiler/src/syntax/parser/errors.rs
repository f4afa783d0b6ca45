//! Syntax errors: pest's "expected ..." turned into a located diagnostic in the
//! language's own words.

use super::grammar::Rule;
use crate::diag::{Code, Diagnostic, FileId, Span};

/// Turns a pest error into a located diagnostic listing what could come next.
pub(super) fn syntax_error(file: FileId, text: &str, e: pest::error::Error<Rule>) -> Diagnostic {
    use pest::error::{ErrorVariant, InputLocation};
    let (mut start, mut expected): (usize, Vec<String>) = match &e.location {
        InputLocation::Pos(p) => (*p, Vec::new()),
        InputLocation::Span((s, _)) => (*s, Vec::new()),
    };
    if let Some(att) = e.parse_attempts() {
        // The furthest position any rule or token was tried at, with everything tried there.
        start = att.max_position;
        for stack in att.call_stacks() {
            if let Some(n) = stack.deepest.get_rule().and_then(|r| rule_name(*r)) {
                expected.push(n.to_string());
            }
        }
        for t in att.expected_tokens() {
            // Literal tokens only: not whitespace, comments, character ranges or builtins.
            let token = t.to_string();
            let literal = !token.trim().is_empty()
                && !token.starts_with("//")
                && !token.starts_with("/*")
                && !token.contains("..")
                && token != "_"
                && token != "BUILTIN_RULE"
                && token.chars().all(|c| !c.is_alphabetic());
            if literal {
                expected.push(format!("`{token}`"));
            }
        }
    }
    if expected.is_empty()
        && let ErrorVariant::ParsingError { positives, .. } = &e.variant
    {
        expected = positives
            .iter()
            .filter_map(|r| rule_name(*r))
            .map(String::from)
            .collect();
    }
    if let ErrorVariant::CustomError { message } = &e.variant {
        expected = vec![message.clone()];
    }
    expected.sort();
    expected.dedup();
    // "an expression" already covers the tokens that can start one.
    if expected.iter().any(|e| e == "an expression") {
        expected.retain(|e| !matches!(e.as_str(), "`!`" | "`\"`" | "`(`" | "`-`" | "`[`" | "`{`"));
    }
    let start = start.min(text.len());
    // Point at the offending token (or the end of input) rather than an empty range.
    let rest = &text[start..];
    let len = rest
        .char_indices()
        .take_while(|(i, c)| !c.is_whitespace() && (*i == 0 || c.is_alphanumeric() || *c == '_'))
        .last()
        .map_or(0, |(i, c)| i + c.len_utf8());
    let end = (start + len.max(1)).min(text.len()).max(start);
    let found = text.get(start..end).filter(|s| !s.is_empty());
    let expected = match expected.len() {
        0 => "something else".to_string(),
        1 => expected[0].clone(),
        _ => {
            let (last, init) = expected.split_last().expect("nonempty");
            format!("{} or {}", init.join(", "), last)
        }
    };
    let found_text = found.map_or("the end of the file".to_string(), |f| format!("`{f}`"));
    let mut d = Diagnostic::new(Code::Syntax, format!("expected {expected}, found {found_text}"))
        .at(Span::new(file, start, end), format!("expected {expected}"));
    if found == Some("=") && text[..start].trim_end().ends_with('=') {
        d = d.hint("comparisons are written `==`");
    }
    d
}

/// Human names of grammar rules for "expected ..." messages; `None` hides a rule.
fn rule_name(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::EOI => "end of file",
        Rule::ident => "a name",
        Rule::expr | Rule::postfix_expr => "an expression",
        Rule::int_lit | Rule::float_lit => "a number",
        Rule::string_lit => "a string",
        Rule::import_decl | Rule::kw_import => "`import`",
        Rule::fn_decl | Rule::kw_fn => "`fn`",
        Rule::algorithm | Rule::kw_algorithm => "`algorithm`",
        Rule::param_decl => "`param`",
        Rule::env_decl => "`env`",
        Rule::net_decl => "`net`",
        Rule::target_decl => "`target`",
        Rule::learnable_decl => "`learnable`",
        Rule::state_decl => "`state`",
        Rule::data_decl | Rule::data_kind => "a data declaration",
        Rule::policy_decl => "`policy`",
        Rule::loss_decl => "`loss`",
        Rule::update_decl => "`update`",
        Rule::schedule_decl => "`schedule`",
        Rule::type_expr | Rule::shape_expr => "a type",
        Rule::call_args => "`(`",
        Rule::index => "`[`",
        Rule::field => "`.`",
        Rule::infix_op
        | Rule::or
        | Rule::and
        | Rule::eq
        | Rule::ne
        | Rule::le
        | Rule::ge
        | Rule::lt
        | Rule::gt
        | Rule::add
        | Rule::sub
        | Rule::mul
        | Rule::div
        | Rule::rem
        | Rule::pow => "an operator",
        Rule::kw_by => "`by`",
        Rule::kw_on => "`on`",
        Rule::kw_of => "`of`",
        Rule::kw_in => "`in`",
        Rule::kw_with => "`with`",
        Rule::kw_then => "`then`",
        Rule::kw_else => "`else`",
        Rule::kw_into => "`into`",
        Rule::kw_default => "`default`",
        Rule::sched_envs | Rule::sched_warmup | Rule::sched_act | Rule::sched_train | Rule::sched_eval => {
            "a schedule statement"
        }
        Rule::sched_train_opt => "a train option",
        Rule::block => "`{`",
        Rule::let_stmt | Rule::kw_let => "`let`",
        Rule::log_stmt | Rule::kw_log => "`log`",
        Rule::set_stmt | Rule::kw_set => "`set`",
        Rule::rule_each | Rule::kw_each => "`each (p, g) { ... }`",
        Rule::rule_state => "`state`",
        Rule::require_stmt | Rule::kw_require => "`require`",
        Rule::pattern => "a pattern",
        Rule::loss_param => "a loss parameter",
        Rule::fn_param | Rule::fn_params => "a parameter",
        Rule::field_decl => "a field",
        Rule::data_opt => "a data option",
        Rule::record_field => "a field",
        Rule::carry => "a carried value",
        Rule::arg => "an argument",
        Rule::reverse_kw => "`reverse`",
        Rule::every_kw => "`every`",
        Rule::noise_kw => "`noise`",
        Rule::doc_line | Rule::docs => return None,
        _ => return None,
    })
}

pub(super) fn is_keyword_token(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::kw_algorithm
            | Rule::kw_import
            | Rule::kw_fn
            | Rule::kw_param
            | Rule::kw_env
            | Rule::kw_net
            | Rule::kw_target
            | Rule::kw_learnable
            | Rule::kw_state
            | Rule::kw_rule
            | Rule::kw_each
            | Rule::kw_require
            | Rule::kw_set
            | Rule::kw_policy
            | Rule::kw_loss
            | Rule::kw_update
            | Rule::kw_by
            | Rule::kw_on
            | Rule::kw_schedule
            | Rule::kw_derive
            | Rule::kw_replay
            | Rule::kw_prioritized
            | Rule::kw_rollout
            | Rule::kw_sequence
            | Rule::kw_envs
            | Rule::kw_warmup
            | Rule::kw_act
            | Rule::kw_into
            | Rule::kw_train
            | Rule::kw_eval
            | Rule::kw_let
            | Rule::kw_log
            | Rule::kw_in
            | Rule::kw_scan
            | Rule::kw_with
            | Rule::kw_for
            | Rule::kw_if
            | Rule::kw_then
            | Rule::kw_else
            | Rule::kw_of
            | Rule::kw_default
    )
}
