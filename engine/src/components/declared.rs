//! The components a pack declares (`[[component]]` in `pack.toml`): which containers, services
//! and env files are which service. The engine knows how every input kind configures a
//! container; the pack knows which containers it has rules about.
//!
//! ```toml
//! [[component]]
//! role = "api"                              # what rules compare `c.role` with
//! images = ["pulumi/service"]               # image repositories (any registry in front)
//! names = ["pulumi-api", "api"]             # container, service or values key names
//! variables = ["PULUMI_LICENSE_KEY", …]     # variables only this component reads
//! ```

use crate::eval::functions::image_parts;
use std::sync::Arc;

/// One `[[component]]` of a pack.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeclaredComponent {
    /// The name rules compare `c.role` against.
    pub role: Arc<str>,
    /// Image repositories, as `owner/name` (or `name`): a container whose image repository
    /// ends with one of them, whatever registry is in front, is this component.
    pub images: Vec<String>,
    /// Container, compose service or values key names that make a container this component
    /// when its image says nothing: no image, or an image whose repository mentions the
    /// owner of one of `images` (a mirror or an in-house rebuild).
    pub names: Vec<String>,
    /// Variables only this component reads: a standalone env file is attributed to the
    /// component whose variables it sets most, and a values mapping without an image keyed by
    /// one of `names` is this component only when its variables say so.
    pub variables: Vec<String>,
}

impl DeclaredComponent {
    /// Whether `repository` (an image without tag and digest) is one of `images`.
    fn has_image(&self, repository: &str) -> bool {
        self.images.iter().any(|declared| {
            repository == declared
                || repository.strip_suffix(declared.as_str()).is_some_and(|registry| registry.ends_with('/'))
        })
    }

    /// Whether `repository` mentions the owner of one of `images` (`pulumi` of `pulumi/service`).
    fn mentions_owner(&self, repository: &str) -> bool {
        self.images.iter().any(|declared| {
            let owner = declared.split('/').next().unwrap_or(declared);
            !owner.is_empty() && repository.contains(owner)
        })
    }
}

/// Every component one pack declares, in declaration order. Rules read the components their
/// own pack declares: two packs may both have an `api`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ComponentCatalog {
    components: Vec<DeclaredComponent>,
}

impl ComponentCatalog {
    /// A catalogue of `components`, whose roles are distinct.
    pub fn new(components: Vec<DeclaredComponent>) -> Self {
        Self { components }
    }

    /// Every declaration of several catalogues (each pack's), for what is decided before rules
    /// run: whether YAML of no known name configures a declared image.
    pub fn union<'a>(catalogs: impl IntoIterator<Item = &'a ComponentCatalog>) -> Self {
        Self { components: catalogs.into_iter().flat_map(|c| c.components.iter().cloned()).collect() }
    }

    /// The declared components.
    pub fn components(&self) -> &[DeclaredComponent] {
        &self.components
    }

    /// Whether nothing is declared: no input has components then.
    pub fn is_empty(&self) -> bool {
        self.components.is_empty()
    }

    /// The role of a container from its image and, when the image says nothing, its name.
    pub fn role_of(&self, image: Option<&str>, name: Option<&str>) -> Option<&Arc<str>> {
        let repository = image.map(|image| image_parts(image.trim()).0);
        if let Some(repository) = repository
            && let Some(found) = self.components.iter().find(|c| c.has_image(repository))
        {
            return Some(&found.role);
        }
        let name = name?;
        self.components
            .iter()
            .find(|c| c.names.iter().any(|n| n == name) && repository.is_none_or(|r| c.mentions_owner(r)))
            .map(|c| &c.role)
    }

    /// Whether `image` is the image of a declared component.
    pub fn declares_image(&self, image: &str) -> bool {
        let repository = image_parts(image.trim()).0;
        self.components.iter().any(|c| c.has_image(repository))
    }

    /// The component a standalone set of variables (an env file nobody references) belongs
    /// to: the one whose [`DeclaredComponent::variables`] it sets most; a tie is none.
    pub fn role_of_variables(&self, keys: &[&str]) -> Option<&Arc<str>> {
        let scores: Vec<(&Arc<str>, usize)> = self
            .components
            .iter()
            .map(|c| (&c.role, keys.iter().filter(|k| c.variables.iter().any(|v| v == *k)).count()))
            .collect();
        let best = scores.iter().map(|(_, n)| *n).max().unwrap_or(0);
        let mut winners = scores.iter().filter(|(_, n)| *n == best && best > 0);
        match (winners.next(), winners.next()) {
            (Some((role, _)), None) => Some(role),
            _ => None,
        }
    }

    /// The roles other than `role` whose variables `keys` set: an env file the API and the
    /// migrations share says so in `otherRoles`.
    pub fn other_roles(&self, role: &str, keys: &[&str]) -> Vec<Arc<str>> {
        self.components
            .iter()
            .filter(|c| &*c.role != role && keys.iter().any(|k| c.variables.iter().any(|v| v == k)))
            .map(|c| c.role.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn declared(role: &str, images: &[&str], names: &[&str], variables: &[&str]) -> DeclaredComponent {
        let owned = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect();
        DeclaredComponent {
            role: Arc::from(role),
            images: owned(images),
            names: owned(names),
            variables: owned(variables),
        }
    }

    fn catalog() -> ComponentCatalog {
        ComponentCatalog::new(vec![
            declared(
                "api",
                &["pulumi/service"],
                &["pulumi-api", "api"],
                &["PULUMI_LICENSE_KEY", "API_MIN_TLS_VERSION"],
            ),
            declared("console", &["pulumi/console"], &["console"], &["PULUMI_API", "CONSOLE_MIN_TLS_VERSION"]),
            declared("grafana", &["grafana/grafana"], &["grafana"], &["GF_SECURITY_ADMIN_PASSWORD"]),
        ])
    }

    #[test]
    fn roles_come_from_images_then_names() {
        let c = catalog();
        let role = |image, name| c.role_of(image, name).map(|r| r.to_string());
        assert_eq!(role(Some("pulumi/service:latest"), None).as_deref(), Some("api"));
        assert_eq!(
            role(Some("123.dkr.ecr.us-east-1.amazonaws.com/pulumi/console@sha256:ab"), None).as_deref(),
            Some("console")
        );
        assert_eq!(role(Some("docker.io/grafana/grafana:11.1.0"), Some("x")).as_deref(), Some("grafana"));
        assert_eq!(role(Some("nginx:1.27"), Some("api")), None, "an unrelated image is not the API");
        assert_eq!(role(None, Some("pulumi-api")).as_deref(), Some("api"));
        assert_eq!(role(Some("registry.local/pulumi-patched:1"), Some("console")).as_deref(), Some("console"));
        assert_eq!(role(Some("pulumi/service-extra"), None), None);
        assert_eq!(role(Some("xpulumi/service"), None), None, "a repository ends at a `/`");
    }

    #[test]
    fn standalone_variables_go_to_the_component_that_reads_most_of_them() {
        let c = catalog();
        assert_eq!(
            c.role_of_variables(&["PULUMI_LICENSE_KEY", "API_MIN_TLS_VERSION", "PULUMI_API"]).map(|r| &**r),
            Some("api")
        );
        assert_eq!(c.role_of_variables(&["PULUMI_LICENSE_KEY", "PULUMI_API"]), None, "a tie is nobody's");
        assert_eq!(c.role_of_variables(&["HOME"]), None);
        assert_eq!(c.other_roles("api", &["PULUMI_LICENSE_KEY", "PULUMI_API"]), [Arc::from("console")]);
    }
}
