//! Rule selectors: the one way a piece of text names rules, used by `--select`/`--ignore`,
//! `per-file-ignores`, suppression comments and `explain`. A selector is `ALL`, a rule id
//! (`blocking-sleep`), a code (`UNB100`), an ASYNC alias (`ASYNC251`), or a prefix of codes or
//! aliases (`UNB1`, `ASYNC2`); case does not matter.

use crate::catalog::{Catalog, Rule};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleSelector {
    All,
    /// One rule, named exactly (id, code or alias).
    Rule(usize),
    /// The rules whose code or one of whose aliases starts with this (upper-case) text.
    Prefix(String),
}

impl RuleSelector {
    /// Parses a selector against the catalog; unknown text is an error that names it.
    pub fn parse(text: &str, catalog: &Catalog) -> Result<RuleSelector, String> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("ALL") {
            return Ok(RuleSelector::All);
        }
        if let Some(index) = catalog.rules.iter().position(|r| names_exactly(r, text)) {
            return Ok(RuleSelector::Rule(index));
        }
        let upper = text.to_ascii_uppercase();
        let is_prefix = upper.len() >= 3
            && upper.chars().all(|c| c.is_ascii_alphanumeric())
            && catalog.rules.iter().any(|r| has_prefix(r, &upper));
        if is_prefix {
            return Ok(RuleSelector::Prefix(upper));
        }
        Err(format!(
            "unknown rule selector `{text}` (see `unblock rules`)"
        ))
    }

    /// Whether the rule at `index` is selected.
    pub fn matches(&self, index: usize, rule: &Rule) -> bool {
        match self {
            RuleSelector::All => true,
            RuleSelector::Rule(i) => *i == index,
            RuleSelector::Prefix(prefix) => has_prefix(rule, prefix),
        }
    }

    /// The one rule this selector names exactly, if it does.
    pub fn single(&self) -> Option<usize> {
        match self {
            RuleSelector::Rule(i) => Some(*i),
            _ => None,
        }
    }
}

fn names_exactly(rule: &Rule, text: &str) -> bool {
    rule.id.eq_ignore_ascii_case(text)
        || rule.code.eq_ignore_ascii_case(text)
        || rule.aliases.iter().any(|a| a.eq_ignore_ascii_case(text))
}

fn has_prefix(rule: &Rule, upper: &str) -> bool {
    rule.code.to_ascii_uppercase().starts_with(upper)
        || rule
            .aliases
            .iter()
            .any(|a| a.to_ascii_uppercase().starts_with(upper))
}

/// Parses a list of selectors; the first unknown one is the error.
pub fn parse_all(texts: &[String], catalog: &Catalog) -> Result<Vec<RuleSelector>, String> {
    texts
        .iter()
        .map(|t| RuleSelector::parse(t, catalog))
        .collect()
}

/// Whether any of `selectors` selects the rule at `index`.
pub fn any_matches(selectors: &[RuleSelector], index: usize, rule: &Rule) -> bool {
    selectors.iter().any(|s| s.matches(index, rule))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        Catalog::builtin().expect("catalog")
    }

    fn selected(text: &str) -> Vec<String> {
        let catalog = catalog();
        let s = RuleSelector::parse(text, &catalog).expect("known");
        catalog
            .rules
            .iter()
            .enumerate()
            .filter(|(i, r)| s.matches(*i, r))
            .map(|(_, r)| r.code.clone())
            .collect()
    }

    #[test]
    fn every_form_in_any_case_selects_the_same_rules() {
        for form in [
            "UNB100",
            "unb100",
            "blocking-sleep",
            "Blocking-Sleep",
            "ASYNC251",
            "async251",
        ] {
            assert_eq!(selected(form), ["UNB100"], "{form}");
        }
        assert_eq!(selected("unb11"), ["UNB110", "UNB111"]);
        assert_eq!(selected("ASYNC23"), ["UNB110", "UNB111"]);
        assert_eq!(selected("all").len(), catalog().rules.len());
    }

    #[test]
    fn unknown_selectors_are_errors_that_name_them() {
        let catalog = catalog();
        for bad in ["UNB9", "UN", "nope", "E501", "UNB1x"] {
            let err = RuleSelector::parse(bad, &catalog).expect_err(bad);
            assert!(err.contains(&format!("`{bad}`")), "{err}");
        }
    }

    #[test]
    fn single_is_only_for_one_named_rule() {
        let catalog = catalog();
        let one = RuleSelector::parse("ASYNC230", &catalog).expect("alias");
        assert_eq!(
            one.single().map(|i| catalog.rules[i].code.as_str()),
            Some("UNB110")
        );
        assert_eq!(
            RuleSelector::parse("UNB1", &catalog)
                .expect("prefix")
                .single(),
            None
        );
    }
}
