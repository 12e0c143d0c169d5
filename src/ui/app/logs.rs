//! The logs pane's state: one pod's container log, where it is scrolled to, and which
//! stream the view wants open.
//!
//! Owns [`LogView`] and [`LogRequest`]: the lines kept, following, wrapping, the container
//! and instance shown, and when an ended stream is asked for again. Only the methods here
//! write a `LogView` (the fields are public for drawing), and
//! [`App::update`](super::App::update) is their only caller. It must not open a stream: it
//! says which one it wants ([`LogView::request`]) and the event loop opens it.

use super::{Action, Search};
use crate::model::{ObjectKey, TrackedObject};
use std::collections::VecDeque;

/// Log lines kept for the logs view; older ones are dropped.
const LOG_CAPACITY: usize = 10_000;

/// Pods whose logs `L` merges at most: each is a stream per container held open.
pub const WORKLOAD_PODS: usize = 20;

/// How far back a stream starts, for the keys `0` to `5`: the whole log the container
/// kept, or its last minute, 5, 15, 30 minutes, hour (seconds).
pub const SINCE_PRESETS: [Option<u32>; 6] =
    [None, Some(60), Some(300), Some(900), Some(1800), Some(3600)];

/// Which container log to stream; the event loop opens one stream per distinct request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRequest {
    pub namespace: String,
    pub pod: String,
    /// `None`: the pod's only container, as the API picks it.
    pub container: Option<String>,
    /// When not empty, these pods' and containers' logs merged as lines come, each line
    /// prefixed with `[container]` (a container of `pod`) or `[pod/container]`;
    /// `container` is then `None`.
    pub merged: Vec<(String, String)>,
    pub previous: bool,
    pub options: LogOptions,
    /// Bumped to reopen an ended stream (see [`LogView::attempt`]).
    pub attempt: u32,
}

/// What the user chose of a log stream besides the container and the instance.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LogOptions {
    /// Each line prefixed with the time the container wrote it.
    pub timestamps: bool,
    /// Only the lines of the last this many seconds (see [`SINCE_PRESETS`]).
    pub since_seconds: Option<u32>,
}

/// Which lines to write to a file, asked for by `s`; the event loop writes once per
/// distinct request and answers with [`Message::Saved`](super::Message::Saved).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaveRequest {
    /// Where the file goes.
    pub dir: std::path::PathBuf,
    pub pod: String,
    pub container: Option<String>,
    /// How many times `s` was pressed on this view: each press writes a file.
    pub attempt: u32,
}

/// The logs pane: one pod's container log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogView {
    pub pod: ObjectKey,
    pub containers: Vec<String>,
    /// The index of the container shown; `None`: every container at once (`a`), init
    /// containers included.
    pub container: Option<usize>,
    pub previous: bool,
    pub options: LogOptions,
    pub follow: bool,
    pub wrap: bool,
    /// First line shown when not following.
    pub top: usize,
    pub lines: VecDeque<String>,
    /// Why the stream ended, or why there is none.
    pub note: Option<String>,
    /// Streams opened so far for this container and instance: an ended stream is reopened
    /// when the pod changes (the container started, or restarted), as a person re-running
    /// `kubectl logs -f` would.
    pub attempt: u32,
    /// With `L`: the pods of the workload `pod` names and their containers, every one
    /// merged; empty for one pod's log.
    pub pods: Vec<(String, Vec<String>)>,
    /// With `L`, when the workload has more than [`WORKLOAD_PODS`] pods: how many it has.
    pub capped: Option<usize>,
    /// What `/` looks for; its matches are highlighted and `n`/`N` go to them.
    pub search: Search,
    /// Times `s` was pressed (see [`SaveRequest::attempt`]).
    pub saves: u32,
    /// What became of the last `s`: the file written, or why not; cleared by the next key.
    pub saved: Option<Result<String, String>>,
}

impl LogView {
    /// The log of `pod`, following its end, on its first container of `containers`.
    pub(super) fn new(pod: ObjectKey, containers: Vec<String>) -> Self {
        LogView {
            pod,
            containers,
            container: Some(0),
            previous: false,
            options: LogOptions::default(),
            follow: true,
            wrap: false,
            top: 0,
            lines: VecDeque::new(),
            note: None,
            attempt: 0,
            search: Search::default(),
            pods: Vec::new(),
            capped: None,
            saves: 0,
            saved: None,
        }
    }

    /// The one container shown; `None` for the pod's default one, or with `a` on.
    pub fn container_name(&self) -> Option<&str> {
        self.containers.get(self.container?).map(String::as_str)
    }

    /// Whether this is the log of `pod`.
    pub(super) fn is_of(&self, pod: &ObjectKey) -> bool {
        self.pod == *pod
    }

    /// Every pod of a workload (`pods`, the first [`WORKLOAD_PODS`] of them), all their
    /// containers merged; `workload` is what the title names.
    pub(super) fn workload(workload: ObjectKey, pods: Vec<(String, Vec<String>)>) -> Self {
        let total = pods.len();
        let mut view = LogView::new(workload, Vec::new());
        view.container = None;
        view.pods = pods.into_iter().take(WORKLOAD_PODS).collect();
        view.capped = (total > WORKLOAD_PODS).then_some(total);
        view
    }

    /// The (pod, container) streams merged, if more than one container is shown.
    fn merged(&self) -> Vec<(String, String)> {
        if !self.pods.is_empty() {
            let pairs = self.pods.iter().flat_map(|(pod, containers)| {
                containers.iter().map(move |c| (pod.clone(), c.clone()))
            });
            return pairs.collect();
        }
        if self.container.is_some() {
            return Vec::new();
        }
        let pod = &self.pod.name;
        self.containers
            .iter()
            .map(|c| (pod.clone(), c.clone()))
            .collect()
    }

    /// The stream this view shows.
    pub(super) fn request(&self) -> LogRequest {
        LogRequest {
            namespace: self.pod.namespace.clone().unwrap_or_default(),
            pod: self.pod.name.clone(),
            container: self.container_name().map(str::to_owned),
            merged: self.merged(),
            previous: self.previous,
            options: self.options,
            attempt: self.attempt,
        }
    }

    /// The file `s` asked for, once it was pressed: the lines kept, into `dir`.
    pub(super) fn save_request(&self, dir: &std::path::Path) -> Option<SaveRequest> {
        (self.saves > 0).then(|| SaveRequest {
            dir: dir.to_owned(),
            pod: self.pod.name.clone(),
            container: if self.container.is_none() {
                Some("all".to_owned())
            } else {
                self.container_name().map(str::to_owned)
            },
            attempt: self.saves,
        })
    }

    /// The event loop wrote the file of `request` (its path), or could not (why); the
    /// answer to an older press is dropped.
    pub(super) fn answer_save(
        &mut self,
        request: &SaveRequest,
        outcome: Result<String, String>,
    ) -> bool {
        if request.attempt != self.saves || request.pod != self.pod.name {
            return false;
        }
        self.saved = Some(outcome);
        true
    }

    /// A new stream starts from its first line.
    fn restart(&mut self) {
        self.lines.clear();
        self.top = 0;
        self.note = None;
    }

    /// Applies a key of the logs pane, with `page` rows on screen. Returns false for a key
    /// the log itself does not take (leaving the pane, help and quit are the app's).
    pub(super) fn act(&mut self, action: Action, page: usize) -> bool {
        // What `s` said stays on screen until the next key.
        self.saved = None;
        let last = self.lines.len().saturating_sub(page);
        match action {
            Action::Follow => {
                self.follow = !self.follow;
                self.top = last;
            }
            Action::NextContainer if self.containers.len() > 1 => {
                // From all containers, `c` shows the first one.
                let next = self
                    .container
                    .map_or(0, |i| (i + 1) % self.containers.len());
                self.container = Some(next);
                self.restart();
            }
            Action::AllContainers if self.containers.len() > 1 => {
                self.container = match self.container {
                    Some(_) => None,
                    None => Some(0),
                };
                self.restart();
            }
            Action::Previous => {
                self.previous = !self.previous;
                self.restart();
            }
            Action::Timestamps => {
                self.options.timestamps = !self.options.timestamps;
                self.restart();
            }
            Action::Since(preset) => {
                self.options.since_seconds =
                    SINCE_PRESETS.get(usize::from(preset)).copied().flatten();
                self.restart();
            }
            Action::Wrap => self.wrap = !self.wrap,
            Action::Save => self.saves += 1,
            Action::StartFilter => return self.search.start(),
            // `n` looks past the line on top, `N` before it, as in the object pane.
            Action::NextMatch => return self.jump(self.top_line(page) + 1, true),
            Action::PreviousMatch => return self.jump(self.top_line(page), false),
            Action::Top | Action::PageUp | Action::Up => {
                // Scrolling up from the followed end starts where the last page is.
                let from = if self.follow { last } else { self.top };
                self.follow = false;
                self.top = match action {
                    Action::Top => 0,
                    Action::PageUp => from.saturating_sub(page),
                    _ => from.saturating_sub(1),
                };
            }
            Action::Bottom => {
                self.top = last;
                self.follow = true;
            }
            Action::PageDown | Action::Down => {
                let step = if action == Action::Down { 1 } else { page };
                self.top = (self.top + step).min(last);
            }
            _ => return false,
        }
        true
    }

    /// A key typed into the search; Enter jumps to the first match from the line on top.
    pub(super) fn edit_search(&mut self, action: Action, page: usize) -> bool {
        if !self.search.edit(action) {
            return false;
        }
        if action == Action::FilterKeep {
            self.jump(self.top_line(page), true);
        }
        true
    }

    /// The first line on screen: while following, the first of the last page.
    fn top_line(&self, page: usize) -> usize {
        if self.follow {
            self.lines.len().saturating_sub(page)
        } else {
            self.top
        }
    }

    /// Stops following and puts the next match from line `from` on top (see
    /// [`Search::next`]); false when nothing matches.
    fn jump(&mut self, from: usize, forward: bool) -> bool {
        let Some(line) = self
            .search
            .next(self.lines.make_contiguous(), from, forward)
        else {
            return false;
        };
        self.follow = false;
        self.top = line;
        true
    }

    /// Keeps `line`, dropping the oldest past [`LOG_CAPACITY`]; the view stays on the same
    /// line when one is dropped above it.
    pub(super) fn push(&mut self, line: String) {
        if self.lines.len() == LOG_CAPACITY {
            self.lines.pop_front();
            self.top = self.top.saturating_sub(1);
        }
        self.lines.push_back(line);
    }

    /// The stream ended or failed: `reason` is shown under the lines.
    pub(super) fn end(&mut self, reason: String) {
        self.note = Some(reason);
    }

    /// A stream that ended (the container was not running yet, or exited) starts again.
    pub(super) fn reopen_if_ended(&mut self) {
        if self.note.is_some() {
            self.restart();
            self.attempt += 1;
        }
    }
}

/// The containers of `pod` to cycle through: regular containers first, as they are what a
/// person usually wants to read.
pub(super) fn containers(pod: &TrackedObject) -> Vec<String> {
    let mut rows: Vec<_> = pod.containers.iter().collect();
    rows.sort_by_key(|c| c.init);
    rows.into_iter().map(|c| c.name.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::fixtures::key;

    #[test]
    fn timestamps_and_since_presets_restart_the_stream_with_them() {
        let mut view = LogView::new(key("Pod", "web"), vec!["app".into()]);
        view.push("old line".into());
        assert!(view.act(Action::Timestamps, 10));
        assert!(
            view.lines.is_empty(),
            "a new stream starts from its first line"
        );
        assert!(view.act(Action::Since(2), 10));
        let request = view.request();
        assert!(request.options.timestamps);
        assert_eq!(request.options.since_seconds, Some(300));
        view.act(Action::Since(0), 10);
        view.act(Action::Timestamps, 10);
        let request = view.request();
        assert_eq!(
            request.options,
            LogOptions::default(),
            "0: the whole log again"
        );
    }

    fn typed(view: &mut LogView, text: &str) {
        view.act(Action::StartFilter, 3);
        for c in text.chars() {
            view.edit_search(Action::FilterChar(c), 3);
        }
        view.edit_search(Action::FilterKeep, 3);
    }

    #[test]
    fn search_goes_to_matches_from_the_first_line_on_screen_and_stops_following() {
        let mut view = LogView::new(key("Pod", "web"), vec!["app".into()]);
        for line in [
            "GET /a 500",
            "GET /b 200",
            "GET /c 500",
            "GET /d 200",
            "GET /e 200",
        ] {
            view.push(line.into());
        }
        typed(&mut view, "200");
        assert!(!view.follow, "a match stays put as lines come");
        assert_eq!(
            view.top, 3,
            "the first match on or after the last page (lines 2-4)"
        );
        assert!(view.act(Action::NextMatch, 3));
        assert_eq!(view.top, 4);
        view.act(Action::NextMatch, 3);
        assert_eq!(view.top, 1, "wraps round to the first");
        view.act(Action::PreviousMatch, 3);
        assert_eq!(view.top, 4, "and back round to the last");
        typed(&mut view, "x");
        assert_eq!(view.search.text, "200x");
        assert!(
            !view.act(Action::NextMatch, 3),
            "nothing matches: nothing moves"
        );
        assert_eq!(view.top, 4);
    }

    #[test]
    fn each_s_asks_for_a_file_and_its_answer_shows_until_the_next_key() {
        let dir = std::path::Path::new("/logs");
        let mut view = LogView::new(key("Pod", "web"), vec!["app".into()]);
        assert_eq!(view.save_request(dir), None, "nothing before s");
        view.act(Action::Save, 3);
        let first = view.save_request(dir).unwrap();
        assert_eq!(
            (first.pod.as_str(), first.container.as_deref()),
            ("web", Some("app"))
        );
        view.act(Action::Save, 3);
        let second = view.save_request(dir).unwrap();
        assert_ne!(first, second, "a second s writes a second file");
        assert!(
            !view.answer_save(&first, Ok("old".into())),
            "an older answer is dropped"
        );
        assert!(view.answer_save(&second, Err("disk full".into())));
        assert_eq!(view.saved, Some(Err("disk full".into())));
        view.act(Action::Down, 3);
        assert_eq!(view.saved, None);
    }

    #[test]
    fn a_merges_every_container_and_c_goes_back_to_one() {
        let containers = vec!["app".to_owned(), "init-db".to_owned()];
        let mut view = LogView::new(key("Pod", "web"), containers.clone());
        view.push("app line".into());
        assert!(view.act(Action::AllContainers, 3));
        let request = view.request();
        let pairs: Vec<_> = containers
            .iter()
            .map(|c| ("web".to_owned(), c.clone()))
            .collect();
        assert_eq!(request.merged, pairs);
        assert_eq!(request.container, None);
        assert!(view.lines.is_empty(), "the merged streams start anew");
        view.act(Action::NextContainer, 3);
        assert_eq!(view.request().merged, Vec::<(String, String)>::new());
        assert_eq!(view.request().container.as_deref(), Some("app"));
        let mut single = LogView::new(key("Pod", "one"), vec!["app".into()]);
        assert!(
            !single.act(Action::AllContainers, 3),
            "one container: nothing to merge"
        );
    }

    #[test]
    fn a_workloads_pods_are_merged_up_to_a_cap() {
        let pods: Vec<_> = (0..25)
            .map(|i| (format!("web-{i}"), vec!["app".to_owned()]))
            .collect();
        let view = LogView::workload(key("Deployment", "web"), pods);
        let merged = view.request().merged;
        assert_eq!(merged.len(), WORKLOAD_PODS);
        assert_eq!(merged[1], ("web-1".to_owned(), "app".to_owned()));
        assert_eq!(view.capped, Some(25));
        let few = LogView::workload(
            key("Deployment", "web"),
            vec![("web-0".into(), vec!["a".into(), "b".into()])],
        );
        assert_eq!(few.request().merged.len(), 2);
        assert_eq!(few.capped, None);
    }
}
