//! Events on the objects the operator manages (events.k8s.io/v1).
//!
//! kube's `Recorder` names an Event `<object name>.<timestamp>`, which goes over Kubernetes'
//! 253-character limit for object names longer than about 235 characters — names Kubernetes
//! allows — and the API server then refuses the Event. Here the object's part of the name is
//! cut to fit; the Event still points at the object through `regarding`.

use super::Notice;
use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use kube::Client;
use kube::api::{Api, PostParams};

/// Longest name of a Kubernetes object (a DNS subdomain).
const MAX_NAME: usize = 253;

/// Publishes Events as one controller.
#[derive(Clone)]
pub struct EventPublisher {
    client: Client,
    controller: String,
    instance: String,
}

impl EventPublisher {
    /// Events reported by `controller`, from `instance` (the pod; the controller when unset).
    pub fn new(client: Client, controller: &str, instance: Option<String>) -> Self {
        EventPublisher {
            client,
            controller: controller.to_string(),
            instance: instance.unwrap_or_else(|| controller.to_string()),
        }
    }

    /// Creates an Event for `notice` about the object `regarding`.
    pub async fn publish(
        &self,
        notice: &Notice,
        regarding: &ObjectReference,
    ) -> Result<(), kube::Error> {
        let now = Timestamp::now();
        let namespace = regarding
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into());
        let event = Event {
            metadata: ObjectMeta {
                name: Some(event_name(
                    regarding.name.as_deref().unwrap_or(&self.controller),
                    now.as_nanosecond(),
                )),
                namespace: Some(namespace.clone()),
                ..Default::default()
            },
            action: Some(notice.action.to_string()),
            reason: Some(notice.reason.as_str().to_string()),
            note: Some(notice.note.clone()),
            type_: Some(
                if notice.is_warning() {
                    "Warning"
                } else {
                    "Normal"
                }
                .into(),
            ),
            event_time: Some(MicroTime(now)),
            regarding: Some(regarding.clone()),
            reporting_controller: Some(self.controller.clone()),
            reporting_instance: Some(self.instance.clone()),
            ..Default::default()
        };
        Api::<Event>::namespaced(self.client.clone(), &namespace)
            .create(&PostParams::default(), &event)
            .await?;
        Ok(())
    }
}

/// `<object>.<nanoseconds in hex>`, with the object's part cut so the whole fits in 253
/// characters and stays a valid DNS subdomain (no label may end in `-` or `.`).
fn event_name(object: &str, nanos: i128) -> String {
    let suffix = format!(".{nanos:x}");
    let room = MAX_NAME - suffix.len();
    let mut prefix = &object[..object.len().min(room)];
    prefix = prefix.trim_end_matches(['-', '.']);
    format!("{prefix}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_names_fit_for_the_longest_object_names() {
        let nanos = 1_700_000_000_123_456_789i128;
        assert_eq!(event_name("cpu", nanos), format!("cpu.{nanos:x}"));
        let longest = "a".repeat(253);
        let name = event_name(&longest, nanos);
        assert_eq!(name.len(), 253);
        assert!(name.ends_with(&format!(".{nanos:x}")));
        // A cut that would end a label in '-' or '.' is moved back.
        let dashed = format!("{}-{}", "a".repeat(234), "b".repeat(18));
        let name = event_name(&dashed, nanos);
        assert!(!name.contains("-."), "{name}");
        assert!(name.len() <= 253);
    }
}
