//! The outbox worker: delivers the rows of the store's outbox table to Telegram.
//!
//! Every message Bert sends (engine alerts, command replies, confirmations and their edits,
//! charts) is first a row in redb, written in the same transaction as the state change that
//! caused it (or, for chat replies, in a transaction of its own). This worker is the only thing
//! that turns rows into Telegram messages, so the rate limits see everything.
//!
//! # Guarantees
//!
//! * **Order per chat.** A chat's rows go out in seq order, one request at a time; other chats
//!   are independent (a 429, a backoff or a slow answer in one chat never holds another back).
//! * **Nothing lost.** A row is deleted only after Telegram confirmed the message (for a long
//!   message: all of its parts). Until then it is just a row: a restart (or a new worker on the
//!   same store) picks it up. Rows for chats that blocked or removed the bot are moved to the
//!   dead-letter table with the reason, never dropped; so are rows Telegram keeps refusing.
//! * **At-least-once, not exactly-once.** Telegram has no idempotency key. If the process dies
//!   between Telegram's OK and the row's deletion, or a request times out after Telegram
//!   accepted it, the message is sent again after the restart/retry: the user may see an alert
//!   twice, never zero times. Parts of a split message already delivered before a crash are
//!   sent again too. (Sending twice is a cosmetic fault; an order is never placed by a message,
//!   so no money moves twice because of it.)
//! * **Rate limits** ([`super::limits`]): about 1 message/s per chat, 20/min per group, 30/s
//!   overall, smooth. `retry_after` pauses only the chat that got it.
//!
//! # What happens to a row
//!
//! The head rows of a chat become a *job*: one row, or (when the chat's backlog is at least
//! [`OutboxConfig::coalesce_at`] rows) several consecutive alerts merged into one message of at
//! most 4096 characters, separated by a blank line, so a burst of 200 alerts to a group takes
//! minutes at 20 messages a minute instead of ten. Replies, prompts with buttons, edits and
//! photos are never merged. A notice is rendered when its job is built, in the chat's language
//! at that moment (`/lang` applies to queued messages), as HTML; text over 4096 characters is
//! split on line boundaries and sent as several messages. The outcome of each request
//! ([`super::errors`]):
//!
//! | answer | action |
//! |---|---|
//! | OK | next part; after the last: record the reply thread and the prompt's message id, delete the rows |
//! | 429 `retry_after` | that chat waits `retry_after`, the job is kept |
//! | `migrate_to_chat_id` | `Store::migrate_chat` readdresses every queued row of the chat, then they are resent |
//! | blocked, kicked, chat not found, deactivated | every queued row of the chat goes to the dead letters (logged) |
//! | can't parse entities | the same text again as plain text (tags stripped, entities decoded) |
//! | message is too long | split finer and resend |
//! | 5xx, network, timeout | capped exponential backoff for that chat, attempts counted in the row |
//! | 401/404 (bad token) | everything pauses with backoff; rows are kept |
//! | other 4xx | retried with backoff; dead-lettered after [`OutboxConfig::max_rejections`] |
//!
//! Reply threading: a row about a position replies (`reply_parameters`, with
//! `allow_sending_without_reply`) to the first message about that position in the chat, whose
//! id the worker records with `Store::set_position_thread` after sending it.
//!
//! The worker wakes on the driver's `Notify` (after every commit that queued messages) and
//! also polls every [`OutboxConfig::poll`], so a missed wake-up costs at most that long.
//!
//! # Testing
//!
//! The limiters are unit-tested exactly on a manual clock (see [`super::limits`]). The worker
//! itself is tested end to end against the fake Bot API over real HTTP, where a fake clock is
//! not possible (a paused tokio clock fires timeouts while a socket is waiting), so those tests
//! run with every limit scaled up (e.g. 10×) and the fake enforcing the same scaled limits
//! with a small tolerance for network jitter.

use super::api::{BotApi, MessageRequest};
use super::coalesce::{SEPARATOR, fits, html_to_plain, units};
use super::errors::SendError;
use super::limits::{Blocked, Limiter, OutboxLimits};
use super::signal_button::{SentSignal, SentSignals, SignalPress};
use crate::chat::{Mode, TELEGRAM_LIMIT, render, split_message};
use crate::domain::PositionId;
use crate::engine::Category;
use crate::i18n::Lang;
use crate::store::{Button, OutboxBody, OutboxRow, Store, StoreError};
use futures_util::FutureExt;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Telegram's caption limit for photos.
const CAPTION_LIMIT: usize = 1024;
/// How many head rows of a chat are offered to a job (enough to fill a 4096-character merge).
const CANDIDATES: usize = 128;
/// Rows read from the store per query.
const LOAD_BATCH: usize = 512;
/// How often the in-memory view of the queue is rebuilt from scratch (self-healing; normally
/// only new rows are read).
const FULL_RELOAD_EVERY: Duration = Duration::from_secs(60);
/// How long a prompt's message id is remembered for edits.
const PROMPT_MEMORY: Duration = Duration::from_secs(3600);

/// How the worker behaves. [`OutboxConfig::default`] is production.
#[derive(Clone, Debug)]
pub struct OutboxConfig {
    pub limits: OutboxLimits,
    /// Merge consecutive alerts of a chat once this many rows wait for it; 0 never merges.
    pub coalesce_at: usize,
    /// First retry delay after a 5xx or network error; doubles per failure up to the cap.
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
    /// Look for new rows at least this often even without a wake-up.
    pub poll: Duration,
    /// Bound on one HTTP request.
    pub request_timeout: Duration,
    /// Unexplained refusals (a 400 Bert does not know) before a row goes to the dead letters.
    pub max_rejections: u32,
    /// After shutdown is requested: keep delivering this long, then stop.
    pub flush: Duration,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        OutboxConfig {
            limits: OutboxLimits::TELEGRAM,
            coalesce_at: 3,
            backoff_base: Duration::from_secs(1),
            backoff_cap: Duration::from_secs(300),
            poll: Duration::from_secs(3),
            request_timeout: Duration::from_secs(20),
            max_rejections: 3,
            flush: Duration::from_secs(3),
        }
    }
}

impl OutboxConfig {
    fn backoff(&self, failures: u32) -> Duration {
        let factor = 2u32.saturating_pow(failures.saturating_sub(1).min(20));
        self.backoff_base.saturating_mul(factor).min(self.backoff_cap)
    }
}

/// Counters for `/metrics` and tests.
#[derive(Debug, Default)]
pub struct OutboxStats {
    /// Successful requests (messages, photos, edits; each part of a split message).
    pub messages_sent: AtomicU64,
    /// Rows deleted after delivery.
    pub rows_delivered: AtomicU64,
    /// Rows that went out merged with others (counted beyond the first of each merge).
    pub rows_coalesced: AtomicU64,
    /// 429 answers.
    pub retry_after: AtomicU64,
    /// 5xx, network errors and timeouts.
    pub transient_failures: AtomicU64,
    pub dead_lettered: AtomicU64,
    pub migrations: AtomicU64,
    pub plain_fallbacks: AtomicU64,
}

/// The Telegram message id each prompt (a row with a token) became, so that an edit queued
/// before the prompt was even sent can find it. In memory: prompts live 60 s, and an edit whose
/// prompt was sent before a restart is skipped (logged).
#[derive(Clone, Debug, Default)]
pub struct PromptIds {
    inner: Arc<Mutex<PromptMap>>,
}

/// Prompt token → (chat, message id, when it was sent).
type PromptMap = HashMap<String, (i64, i32, std::time::Instant)>;

impl PromptIds {
    /// The chat and message id of the prompt with this token.
    pub fn get(&self, token: &str) -> Option<(i64, i32)> {
        let map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        map.get(token).map(|(chat, id, _)| (*chat, *id))
    }

    fn insert(&self, token: &str, chat: i64, id: i32) {
        let mut map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let now = std::time::Instant::now();
        map.retain(|_, (_, _, at)| now.duration_since(*at) < PROMPT_MEMORY);
        map.insert(token.to_owned(), (chat, id, now));
    }
}

/// The worker. Build it with [`Outbox::new`] and run it with [`Outbox::run`].
pub struct Outbox {
    shared: Arc<Shared>,
    notify: Arc<Notify>,
}

struct Shared {
    store: Arc<Store>,
    api: BotApi,
    config: OutboxConfig,
    prompts: PromptIds,
    /// Signal messages sent with their Enter button (see [`super::signal_button`]).
    signals: SentSignals,
    stats: Arc<OutboxStats>,
    /// Delivered rows to delete (see [`deleter`]).
    deletes: mpsc::UnboundedSender<Vec<u64>>,
    deletes_rx: Mutex<Option<mpsc::UnboundedReceiver<Vec<u64>>>>,
    /// Rows delivered but not yet deleted: never read back into the queue.
    deleting: Arc<Mutex<HashSet<u64>>>,
}

impl Outbox {
    /// `notify` is the driver's outbox `Notify` (and the bot's: replies wake the worker too).
    pub fn new(store: Arc<Store>, api: BotApi, config: OutboxConfig, notify: Arc<Notify>) -> Outbox {
        let (deletes, rx) = mpsc::unbounded_channel();
        let shared = Shared {
            store,
            api,
            config,
            prompts: PromptIds::default(),
            signals: SentSignals::default(),
            stats: Arc::new(OutboxStats::default()),
            deletes,
            deletes_rx: Mutex::new(Some(rx)),
            deleting: Arc::new(Mutex::new(HashSet::new())),
        };
        Outbox { shared: Arc::new(shared), notify }
    }

    pub fn stats(&self) -> Arc<OutboxStats> {
        self.shared.stats.clone()
    }

    /// Records the signal messages this worker sends with an Enter button in `signals` (the
    /// bot's sweep edits them when they expire). Call before [`Outbox::run`].
    pub fn recording_signals(mut self, signals: SentSignals) -> Outbox {
        match Arc::get_mut(&mut self.shared) {
            Some(shared) => shared.signals = signals,
            // Not yet shared before `run`, so this is unreachable; if it ever were, the only
            // loss would be the expiry edit (a press is still refused).
            None => tracing::warn!("the outbox is already running; signal expiry edits are off"),
        }
        self
    }

    pub fn prompts(&self) -> PromptIds {
        self.shared.prompts.clone()
    }

    /// Delivers until `shutdown` is cancelled, then for at most [`OutboxConfig::flush`] more
    /// (or until the queue is empty), and returns. Requests still in flight then are abandoned;
    /// their rows stay queued for the next start.
    pub async fn run(self, shutdown: CancellationToken) {
        Scheduler::new(self.shared, self.notify).run(shutdown).await;
    }
}

// ----- the in-memory view of the queue --------------------------------------------------------

#[derive(Default)]
struct Mirror {
    rows: BTreeMap<u64, OutboxRow>,
    by_chat: HashMap<i64, BTreeSet<u64>>,
    last_seq: u64,
}

impl Mirror {
    fn insert(&mut self, seq: u64, row: OutboxRow) {
        self.last_seq = self.last_seq.max(seq);
        if let Some(old) = self.rows.get(&seq) {
            let old_chat = old.chat;
            if let Some(set) = self.by_chat.get_mut(&old_chat) {
                set.remove(&seq);
                if set.is_empty() {
                    self.by_chat.remove(&old_chat);
                }
            }
        }
        self.by_chat.entry(row.chat).or_default().insert(seq);
        self.rows.insert(seq, row);
    }

    fn remove(&mut self, seq: u64) {
        if let Some(row) = self.rows.remove(&seq)
            && let Some(set) = self.by_chat.get_mut(&row.chat)
        {
            set.remove(&seq);
            if set.is_empty() {
                self.by_chat.remove(&row.chat);
            }
        }
    }

    fn clear(&mut self) {
        self.rows.clear();
        self.by_chat.clear();
        // `last_seq` stays: seqs only grow, and a full reload reads from 0 anyway.
    }

    /// Chats with queued rows, the one waiting longest first.
    fn heads(&self) -> Vec<(u64, i64)> {
        let mut heads: Vec<(u64, i64)> =
            self.by_chat.iter().filter_map(|(chat, seqs)| seqs.first().map(|s| (*s, *chat))).collect();
        heads.sort_unstable();
        heads
    }

    fn chat_rows(&self, chat: i64, limit: usize) -> Vec<(u64, OutboxRow)> {
        let Some(seqs) = self.by_chat.get(&chat) else { return Vec::new() };
        seqs.iter().take(limit).filter_map(|s| self.rows.get(s).map(|r| (*s, r.clone()))).collect()
    }

    fn chat_len(&self, chat: i64) -> usize {
        self.by_chat.get(&chat).map_or(0, BTreeSet::len)
    }
}

// ----- jobs -------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum Payload {
    /// One or more `sendMessage` parts; the buttons go under the last part.
    Text(Vec<String>),
    Photo {
        png: Vec<u8>,
        caption: String,
    },
    Edit {
        message_id: i32,
        html: String,
    },
}

/// What is being delivered to one chat: the rows it covers and the progress so far.
#[derive(Clone, Debug)]
struct Job {
    rows: Vec<(u64, OutboxRow)>,
    payload: Payload,
    /// Parts (or the single photo/edit) sent so far.
    next: usize,
    /// Sending as plain text after a parse error.
    plain: bool,
    reply_to: Option<i32>,
    buttons: Vec<Vec<Button>>,
    token: Option<String>,
    /// Positions that have no reply thread in this chat yet: this message becomes it.
    new_threads: Vec<PositionId>,
    first_id: Option<i32>,
    /// A signal with its Enter button: what it is for, its text and language as sent.
    signal: Option<(SignalPress, String, Lang)>,
    /// The id of the part that carries the buttons (the last one).
    buttons_id: Option<i32>,
    rejections: u32,
}

impl Job {
    fn seqs(&self) -> Vec<u64> {
        self.rows.iter().map(|(s, _)| *s).collect()
    }

    fn total(&self) -> usize {
        match &self.payload {
            Payload::Text(parts) => parts.len(),
            Payload::Photo { .. } | Payload::Edit { .. } => 1,
        }
    }

    fn all_sent(&self) -> bool {
        self.next >= self.total()
    }
}

enum Built {
    Job(Box<Job>),
    /// Nothing can ever be sent for these rows (an empty text, an edit whose target is
    /// unknown): remove them, with the reason logged.
    Drop {
        seqs: Vec<u64>,
        why: &'static str,
    },
}

/// What a step (one request, or the bookkeeping after the last one) came to.
#[derive(Debug)]
enum Outcome {
    /// The job was built; it waits for its permit.
    Prepared,
    /// A part was sent; more remain.
    Progress,
    /// The rows are gone from the queue (delivered, dropped or dead-lettered).
    Done(Vec<u64>),
    /// The chat's rows changed in the store (migrated, dead-lettered): reread everything.
    Reload,
    /// 429: this chat waits.
    RetryAfter(Duration),
    /// A transient failure: this chat backs off.
    Backoff,
    /// Try again as soon as the limits allow (plain-text resend, finer split).
    Again,
    /// Nothing can be sent by anyone (bad token): everything backs off.
    PauseAll,
}

type StepResult = (Option<Box<Job>>, Outcome);

/// A step's result, and when its request (if any) left and when its answer came back.
type StepReport = (StepResult, Option<(Instant, Instant)>);

// ----- the scheduler ------------------------------------------------------------------------

#[derive(Default)]
struct ChatState {
    job: Option<Box<Job>>,
    busy: bool,
    not_before: Option<Instant>,
    failures: u32,
}

struct Scheduler {
    shared: Arc<Shared>,
    notify: Arc<Notify>,
    mirror: Mirror,
    chats: HashMap<i64, ChatState>,
    limiter: Limiter,
    tasks: JoinSet<(i64, Result<StepReport, String>)>,
    pause_until: Option<Instant>,
    pause_failures: u32,
    full_reload: bool,
    load_new: bool,
}

impl Scheduler {
    fn new(shared: Arc<Shared>, notify: Arc<Notify>) -> Self {
        let limiter = Limiter::new(shared.config.limits);
        Scheduler {
            shared,
            notify,
            mirror: Mirror::default(),
            chats: HashMap::new(),
            limiter,
            tasks: JoinSet::new(),
            pause_until: None,
            pause_failures: 0,
            full_reload: true,
            load_new: false,
        }
    }

    async fn run(mut self, shutdown: CancellationToken) {
        let poll = self.shared.config.poll.max(Duration::from_millis(10));
        let mut next_poll = Instant::now() + poll;
        let mut next_full = Instant::now() + FULL_RELOAD_EVERY;
        let mut deadline: Option<Instant> = None;
        // tokio's timers have millisecond resolution; only limits scaled far beyond Telegram's
        // (tests, benchmarks) have intervals where that matters.
        let precise = self.shared.config.limits.global < Duration::from_millis(10);
        let rx = self.shared.deletes_rx.lock().unwrap_or_else(|p| p.into_inner()).take();
        let deleter = rx.map(|rx| tokio::spawn(deleter(self.shared.store.clone(), self.shared.deleting.clone(), rx)));
        tracing::info!("outbox worker started");
        loop {
            self.refresh().await;
            let now = Instant::now();
            if let Some(d) = deadline
                && ((self.mirror.rows.is_empty() && self.tasks.is_empty()) || now >= d)
            {
                break;
            }
            let global_wait = self.start_jobs(now);
            let wake = self.next_wake(global_wait).min(next_poll).min(next_full);
            let wake = deadline.map_or(wake, |d| wake.min(d));
            tokio::select! {
                Some(joined) = self.tasks.join_next(), if !self.tasks.is_empty() => match joined {
                    Ok((chat, result)) => self.apply(chat, result),
                    // Tasks are never aborted while the scheduler runs, and a panic is caught
                    // inside the task (with its chat id), so this is unreachable in practice.
                    Err(e) => {
                        tracing::error!(error = %e, "outbox task failed");
                        self.full_reload = true;
                    }
                },
                _ = self.notify.notified() => self.load_new = true,
                _ = sleep_until(wake, precise) => {
                    let now = Instant::now();
                    if now >= next_poll {
                        self.load_new = true;
                        next_poll = now + poll;
                    }
                    if now >= next_full {
                        self.full_reload = true;
                        next_full = now + FULL_RELOAD_EVERY;
                        self.limiter.prune();
                        let mirror = &self.mirror;
                        self.chats.retain(|chat, st| {
                            st.busy || st.job.is_some() || mirror.chat_len(*chat) > 0
                                || st.not_before.is_some_and(|t| t > now)
                        });
                    }
                },
                _ = shutdown.cancelled(), if deadline.is_none() => {
                    tracing::info!(queued = self.mirror.rows.len(), "outbox flushing before shutdown");
                    deadline = Some(Instant::now() + self.shared.config.flush);
                    self.load_new = true;
                },
            }
        }
        let abandoned = self.tasks.len();
        self.tasks.abort_all();
        while self.tasks.join_next().await.is_some() {}
        // Let the deletes of delivered rows finish (bounded): a row left behind would be sent
        // again after the restart.
        // Dropping the scheduler drops the last `Shared` and with it the deletes' sender: the
        // deleter finishes what it has and ends.
        drop(self);
        if let Some(mut deleter) = deleter
            && tokio::time::timeout(Duration::from_secs(2), &mut deleter).await.is_err()
        {
            deleter.abort();
            tracing::warn!("outbox deletes still pending at shutdown; those messages may be sent again");
        }
        tracing::info!(abandoned, "outbox worker stopped");
    }

    /// Reads new rows (or everything, after changes made behind the view's back).
    async fn refresh(&mut self) {
        if !self.full_reload && !self.load_new {
            return;
        }
        let full = self.full_reload;
        let after = if full { 0 } else { self.mirror.last_seq };
        let store = self.shared.store.clone();
        // Rows delivered but not yet deleted must not come back. Those handed over before the
        // read are in `before`; those handed over during it are in the set afterwards, or, if
        // already deleted, their step's `Done` (processed after this) removes them again.
        let before: HashSet<u64> = self.shared.deleting.lock().unwrap_or_else(|p| p.into_inner()).clone();
        match tokio::task::spawn_blocking(move || load(&store, after)).await {
            Ok(Ok(rows)) => {
                if full {
                    self.mirror.clear();
                }
                let deleting = self.shared.deleting.lock().unwrap_or_else(|p| p.into_inner());
                for (seq, row) in rows {
                    if !before.contains(&seq) && !deleting.contains(&seq) {
                        self.mirror.insert(seq, row);
                    }
                }
                drop(deleting);
                self.full_reload = false;
                self.load_new = false;
            }
            // Left flagged: retried on the next wake-up (at most one poll interval away).
            Ok(Err(e)) => tracing::error!(error = %e, "cannot read the outbox"),
            Err(e) => tracing::error!(error = %e, "cannot read the outbox"),
        }
    }

    /// Starts a step for every chat that may send now. Returns when the global limit frees up
    /// if it stopped the round.
    fn start_jobs(&mut self, now: Instant) -> Option<Instant> {
        if self.pause_until.is_some_and(|t| t > now) {
            return None;
        }
        for (_, chat) in self.mirror.heads() {
            let st = self.chats.entry(chat).or_default();
            if st.busy || st.not_before.is_some_and(|t| t > now) {
                continue;
            }
            // A chat without a job first prepares one (reading and rendering need no permit),
            // so that when its permit comes the request leaves at once.
            let send = st.job.is_some();
            if send {
                match self.limiter.acquire(chat) {
                    Ok(()) => {}
                    Err(Blocked::Chat(_)) => continue,
                    Err(Blocked::Global(wait)) => return Some(now + wait),
                }
            }
            st.busy = true;
            let job = st.job.take();
            let candidates = if job.is_none() { self.mirror.chat_rows(chat, CANDIDATES) } else { Vec::new() };
            let backlog = self.mirror.chat_len(chat);
            let shared = self.shared.clone();
            self.tasks.spawn(async move {
                let result = AssertUnwindSafe(step(shared, chat, job, candidates, backlog, send))
                    .catch_unwind()
                    .await
                    .map_err(|panic| {
                        panic
                            .downcast_ref::<&str>()
                            .map(|s| s.to_string())
                            .or_else(|| panic.downcast_ref::<String>().cloned())
                            .unwrap_or_else(|| "panic".to_string())
                    });
                (chat, result)
            });
        }
        None
    }

    /// The earliest moment something may become sendable.
    fn next_wake(&self, global_wait: Option<Instant>) -> Instant {
        let far = Instant::now() + Duration::from_secs(3600);
        if let Some(p) = self.pause_until.filter(|p| *p > Instant::now()) {
            return p;
        }
        if let Some(g) = global_wait {
            return g;
        }
        let mut wake = far;
        for chat in self.mirror.by_chat.keys() {
            let Some(st) = self.chats.get(chat) else { continue };
            if st.busy {
                continue;
            }
            let mut at = st.not_before.unwrap_or_else(Instant::now);
            if let Some(wait) = self.limiter.chat_wait(*chat) {
                at = at.max(Instant::now() + wait);
            }
            wake = wake.min(at);
        }
        wake
    }

    fn apply(&mut self, chat: i64, result: Result<StepReport, String>) {
        let now = Instant::now();
        let config = self.shared.config.clone();
        let st = self.chats.entry(chat).or_default();
        st.busy = false;
        let ((job, outcome), requested) = match result {
            Ok(r) => r,
            Err(panic) => {
                tracing::error!(chat, panic, "outbox step panicked; backing off");
                st.failures += 1;
                st.not_before = Some(now + config.backoff(st.failures));
                self.full_reload = true;
                return;
            }
        };
        if let Some((at, answered)) = requested {
            // The next message of this chat must reach Telegram at least 90% of the interval
            // after this one. Telegram received this one between `at` (the request left) and
            // `answered`: measuring from `at` keeps local delays from shrinking
            // the gap, and "now minus 10%" bounds it even when this request was slow on the
            // way in (a new connection) while the next one is fast.
            let gap = config.limits.interval_for(chat);
            let next = (at + gap).max(answered + gap - gap / 10);
            self.limiter.defer(chat, next.saturating_duration_since(now));
        }
        match outcome {
            Outcome::Progress => {
                st.job = job;
                st.failures = 0;
            }
            Outcome::Done(seqs) => {
                st.job = None;
                st.failures = 0;
                self.pause_failures = 0;
                for seq in seqs {
                    self.mirror.remove(seq);
                }
            }
            Outcome::Reload => {
                st.job = None;
                self.full_reload = true;
            }
            Outcome::RetryAfter(d) => {
                st.job = job;
                st.not_before = Some(now + d);
            }
            Outcome::Backoff => {
                st.job = job;
                st.failures += 1;
                st.not_before = Some(now + config.backoff(st.failures));
            }
            Outcome::Again | Outcome::Prepared => st.job = job,
            Outcome::PauseAll => {
                st.job = job;
                self.pause_failures += 1;
                self.pause_until = Some(now + config.backoff(self.pause_failures));
            }
        }
    }
}

/// Sleeps until `deadline`. With `precise`, the last 1.5 ms are spent yielding instead of on a
/// timer (which would round up to the next millisecond): with limits scaled 100×, a global
/// interval is a third of a millisecond, and timer rounding alone would cost half the rate.
/// At Telegram's real limits (33 ms and more) `precise` is off and nothing spins.
async fn sleep_until(deadline: Instant, precise: bool) {
    const SPIN: Duration = Duration::from_micros(1500);
    if !precise {
        return tokio::time::sleep_until(deadline).await;
    }
    if let Some(coarse) = deadline.checked_sub(SPIN)
        && coarse > Instant::now()
    {
        tokio::time::sleep_until(coarse).await;
    }
    while Instant::now() < deadline {
        tokio::task::yield_now().await;
    }
}

/// Reads queued rows above `after`; rows that cannot be decoded are removed with an error log
/// (they can never be sent, and left in place they would be read again forever).
fn load(store: &Store, mut after: u64) -> Result<Vec<(u64, OutboxRow)>, StoreError> {
    let mut out = Vec::new();
    loop {
        let batch = store.outbox_after(after, LOAD_BATCH)?;
        let n = batch.len();
        for (seq, row) in batch {
            after = seq;
            match row {
                Ok(row) => out.push((seq, row)),
                Err(e) => {
                    tracing::error!(seq, error = %e, "unreadable outbox row removed; it cannot be delivered");
                    store.outbox_delete(seq)?;
                }
            }
        }
        if n < LOAD_BATCH {
            return Ok(out);
        }
    }
}

// ----- one step of one chat -------------------------------------------------------------------

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T, StoreError> + Send + 'static) -> Result<T, String> {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(e.to_string()),
        Err(e) => Err(e.to_string()),
    }
}

async fn step(
    sh: Arc<Shared>,
    chat: i64,
    job: Option<Box<Job>>,
    candidates: Vec<(u64, OutboxRow)>,
    backlog: usize,
    send: bool,
) -> StepReport {
    let mut requested = None;
    let result = step_inner(&sh, chat, job, candidates, backlog, send, &mut requested).await;
    (result, requested)
}

async fn step_inner(
    sh: &Arc<Shared>,
    chat: i64,
    job: Option<Box<Job>>,
    candidates: Vec<(u64, OutboxRow)>,
    backlog: usize,
    send: bool,
    requested: &mut Option<(Instant, Instant)>,
) -> StepResult {
    let mut job = match job {
        Some(job) => job,
        None => {
            // Building reads the store only for notices (the chat's language) and rows about a
            // position (its reply thread); without those it is pure and runs right here.
            let built = if needs_store(&candidates) {
                let inner = sh.clone();
                blocking(move || build(&inner, chat, candidates, backlog)).await
            } else {
                build(sh, chat, candidates, backlog).map_err(|e| e.to_string())
            };
            match built {
                Ok(Built::Job(job)) => job,
                Ok(Built::Drop { seqs, why }) => {
                    tracing::warn!(chat, ?seqs, why, "outbox rows dropped");
                    delete_rows(sh, seqs.clone()).await;
                    return (None, Outcome::Done(seqs));
                }
                Err(e) => {
                    tracing::error!(chat, error = %e, "cannot prepare an outbox message");
                    return (None, Outcome::Backoff);
                }
            }
        }
    };
    if !send {
        return (Some(job), Outcome::Prepared);
    }
    if !job.all_sent() {
        let left = Instant::now();
        let sent = send_part(sh, chat, &mut job).await;
        *requested = Some((left, Instant::now()));
        match sent {
            Ok(()) => {}
            Err(SendError::NotModified) => job.next += 1,
            Err(e) => return failed(sh, chat, job, e).await,
        }
        if !job.all_sent() {
            return (Some(job), Outcome::Progress);
        }
    }
    finish(sh, chat, job).await
}

/// Sends the job's next part.
async fn send_part(sh: &Shared, chat: i64, job: &mut Job) -> Result<(), SendError> {
    let reply_to = if job.next == 0 { job.reply_to } else { None };
    let id = match &job.payload {
        Payload::Text(parts) => {
            let Some(part) = parts.get(job.next) else { return Ok(()) };
            let last = job.next + 1 == parts.len();
            let request = MessageRequest {
                chat,
                text: if job.plain { html_to_plain(part) } else { part.clone() },
                html: !job.plain,
                reply_to,
                buttons: if last { job.buttons.clone() } else { Vec::new() },
            };
            Some(sh.api.send_message(&request).await?)
        }
        Payload::Photo { png, caption } => {
            let caption = if job.plain { html_to_plain(caption) } else { caption.clone() };
            Some(sh.api.send_photo(chat, png.clone(), &caption, !job.plain, reply_to).await?)
        }
        Payload::Edit { message_id, html } => {
            let text = if job.plain { html_to_plain(html) } else { html.clone() };
            sh.api.edit_message_text(chat, *message_id, &text, !job.plain, &job.buttons).await?;
            None
        }
    };
    sh.stats.messages_sent.fetch_add(1, Ordering::Relaxed);
    if job.first_id.is_none() {
        job.first_id = id.filter(|id| *id > 0);
    }
    if job.next + 1 == job.total() && !job.buttons.is_empty() {
        job.buttons_id = id.filter(|id| *id > 0);
    }
    job.next += 1;
    Ok(())
}

/// After the last part: remember what later rows need (thread roots, the prompt's id), then
/// delete the rows. If the delete fails the job is kept (all sent) and only the delete is
/// retried, so nothing is sent again.
async fn finish(sh: &Arc<Shared>, chat: i64, mut job: Box<Job>) -> StepResult {
    if let (Some(token), Some(id)) = (&job.token, job.first_id) {
        sh.prompts.insert(token, chat, id);
    }
    if let (Some((press, html, lang)), Some(message_id)) = (job.signal.take(), job.buttons_id) {
        sh.signals.record(SentSignal { chat, message_id, press, html, lang });
    }
    let seqs = job.seqs();
    if let Some(id) = job.first_id
        && !job.new_threads.is_empty()
    {
        let store = sh.store.clone();
        let threads = std::mem::take(&mut job.new_threads);
        let result = blocking(move || {
            for p in threads {
                store.set_position_thread(p, chat, id)?;
            }
            Ok(())
        })
        .await;
        // Cosmetic: a failure only costs the reply thread.
        if let Err(e) = result {
            tracing::warn!(chat, error = %e, "cannot record the reply thread");
        }
    }
    sh.stats.rows_delivered.fetch_add(seqs.len() as u64, Ordering::Relaxed);
    delete_rows(sh, seqs.clone()).await;
    (None, Outcome::Done(seqs))
}

/// Hands delivered rows to the [`deleter`]. From here on they are never read back into the
/// queue, so they cannot be sent again by this process, even if their delete has to be retried.
async fn delete_rows(sh: &Shared, seqs: Vec<u64>) {
    sh.deleting.lock().unwrap_or_else(|p| p.into_inner()).extend(seqs.iter().copied());
    if let Err(mpsc::error::SendError(seqs)) = sh.deletes.send(seqs) {
        // Only while stopping: delete here instead.
        let store = sh.store.clone();
        let del = seqs.clone();
        if let Err(e) = blocking(move || store.outbox_delete_many(&del)).await {
            tracing::error!(?seqs, error = %e, "delivered, but cannot delete the rows; they may be sent again");
        }
    }
}

/// Deletes delivered rows, with group commit: every delete that arrived while the previous
/// transaction was being written goes into the next one. Each commit is an fsync, and one per
/// delivered message would cap the worker below Telegram's 30 messages a second on a slow disk,
/// while a batch costs about the same as one row.
///
/// A row is deleted only after its message was confirmed. A chat's next message does not wait
/// for the delete to be durable (that would cap each chat at one message per fsync): a crash in
/// between sends the confirmed messages again after the restart, in order (at-least-once). A
/// failing delete is retried until it succeeds; meanwhile the rows stay out of the queue.
async fn deleter(store: Arc<Store>, deleting: Arc<Mutex<HashSet<u64>>>, mut rx: mpsc::UnboundedReceiver<Vec<u64>>) {
    let mut retry = Duration::from_millis(50);
    let mut pending: Vec<u64> = Vec::new();
    loop {
        if pending.is_empty() {
            match rx.recv().await {
                Some(seqs) => pending.extend(seqs),
                None => return,
            }
        }
        while let Ok(more) = rx.try_recv() {
            pending.extend(more);
        }
        let db = store.clone();
        let seqs = pending.clone();
        match blocking(move || db.outbox_delete_many(&seqs)).await {
            Ok(_) => {
                let mut deleting = deleting.lock().unwrap_or_else(|p| p.into_inner());
                for s in pending.drain(..) {
                    deleting.remove(&s);
                }
                retry = Duration::from_millis(50);
            }
            Err(e) => {
                tracing::error!(rows = pending.len(), error = %e, "cannot delete delivered outbox rows; retrying");
                tokio::time::sleep(retry).await;
                retry = (retry * 2).min(Duration::from_secs(5));
            }
        }
    }
}

/// Acts on a failed request (the table in the module docs).
async fn failed(sh: &Arc<Shared>, chat: i64, mut job: Box<Job>, error: SendError) -> StepResult {
    let seqs = job.seqs();
    match error {
        SendError::RetryAfter(d) => {
            sh.stats.retry_after.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(chat, retry_after_s = d.as_secs(), "Telegram flood control; this chat waits");
            (Some(job), Outcome::RetryAfter(d))
        }
        SendError::Migrated(new) => {
            let store = sh.store.clone();
            match blocking(move || store.migrate_chat(chat, new)).await {
                Ok(rows) => {
                    sh.stats.migrations.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(
                        chat,
                        new_chat = new,
                        rows,
                        "group migrated to a supergroup; queued messages follow"
                    );
                    (None, Outcome::Reload)
                }
                Err(e) => {
                    tracing::error!(chat, new_chat = new, error = %e, "cannot record the chat migration");
                    (Some(job), Outcome::Backoff)
                }
            }
        }
        SendError::ChatGone(reason) => {
            let store = sh.store.clone();
            let why = reason.clone();
            let moved = blocking(move || {
                let rows = store.outbox_peek_chat(chat, usize::MAX)?;
                let mut moved = 0u64;
                for (seq, _) in rows {
                    if store.dead_letter(seq, &why)? {
                        moved += 1;
                    }
                }
                Ok(moved)
            })
            .await;
            match moved {
                Ok(moved) => {
                    sh.stats.dead_lettered.fetch_add(moved, Ordering::Relaxed);
                    tracing::warn!(chat, rows = moved, reason = %reason, "chat unreachable; its messages moved to the dead letters");
                    (None, Outcome::Reload)
                }
                Err(e) => {
                    tracing::error!(chat, error = %e, "cannot move messages to the dead letters");
                    (Some(job), Outcome::Backoff)
                }
            }
        }
        SendError::CantParse(reason) if !job.plain => {
            sh.stats.plain_fallbacks.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(chat, ?seqs, reason = %reason, "Telegram could not parse the HTML; resending as plain text");
            job.plain = true;
            (Some(job), Outcome::Again)
        }
        SendError::TooLong => {
            job.rejections += 1;
            if job.rejections >= sh.config.max_rejections.max(4) {
                return dead_letter(sh, chat, job, "message is too long").await;
            }
            match &mut job.payload {
                Payload::Text(parts) => {
                    if let Some(part) = parts.get(job.next).cloned() {
                        let finer = split_message(&part, (units(&part) / 2).max(64));
                        parts.splice(job.next..=job.next, finer);
                    }
                }
                Payload::Photo { caption, .. } => {
                    *caption = split_message(caption, CAPTION_LIMIT / 2).into_iter().next().unwrap_or_default();
                }
                Payload::Edit { html, .. } => {
                    *html = split_message(html, units(html) / 2).into_iter().next().unwrap_or_default();
                }
            }
            tracing::warn!(chat, ?seqs, "message too long for Telegram; splitting finer");
            (Some(job), Outcome::Again)
        }
        SendError::NotModified => {
            job.next += 1;
            (Some(job), Outcome::Again)
        }
        SendError::EditImpossible(reason) => dead_letter(sh, chat, job, &reason).await,
        SendError::Unauthorized(reason) => {
            tracing::error!(reason = %reason, "Telegram refuses the bot token; outbox paused");
            (Some(job), Outcome::PauseAll)
        }
        SendError::Transient(reason) => {
            sh.stats.transient_failures.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(chat, ?seqs, reason = %reason, "send failed; will retry");
            count_attempt(sh, &mut job).await;
            (Some(job), Outcome::Backoff)
        }
        SendError::Rejected(reason) | SendError::CantParse(reason) => {
            job.rejections += 1;
            count_attempt(sh, &mut job).await;
            if job.rejections >= sh.config.max_rejections {
                return dead_letter(sh, chat, job, &reason).await;
            }
            tracing::warn!(chat, ?seqs, reason = %reason, "Telegram refused the message; will retry");
            (Some(job), Outcome::Backoff)
        }
    }
}

/// Moves the job's rows to the dead letters.
async fn dead_letter(sh: &Arc<Shared>, chat: i64, job: Box<Job>, reason: &str) -> StepResult {
    let store = sh.store.clone();
    let seqs = job.seqs();
    let (list, why) = (seqs.clone(), reason.to_owned());
    match blocking(move || list.iter().try_fold(0u64, |n, s| Ok(n + u64::from(store.dead_letter(*s, &why)?)))).await {
        Ok(moved) => {
            sh.stats.dead_lettered.fetch_add(moved, Ordering::Relaxed);
            tracing::warn!(chat, ?seqs, reason, "undeliverable message moved to the dead letters");
            (None, Outcome::Done(seqs))
        }
        Err(e) => {
            tracing::error!(chat, error = %e, "cannot move messages to the dead letters");
            (Some(job), Outcome::Backoff)
        }
    }
}

/// Counts a failed attempt in the stored rows (visible in dead letters and for operators).
async fn count_attempt(sh: &Shared, job: &mut Job) {
    for (_, row) in &mut job.rows {
        row.attempts = row.attempts.saturating_add(1);
    }
    let store = sh.store.clone();
    let rows = job.rows.clone();
    let result = blocking(move || {
        for (seq, row) in &rows {
            store.outbox_replace(*seq, row)?;
        }
        Ok(())
    })
    .await;
    if let Err(e) = result {
        tracing::warn!(error = %e, "cannot count a delivery attempt");
    }
}

// ----- building a job ---------------------------------------------------------------------------

/// Whether building a job from these rows reads the store: a notice is rendered in the chat's
/// language, a row about a position looks up its reply thread.
fn needs_store(candidates: &[(u64, OutboxRow)]) -> bool {
    candidates.iter().any(|(_, r)| matches!(r.body, OutboxBody::Notice(_)) || r.position.is_some())
}

/// Rows that may be merged with their neighbours: alerts as text (not replies, prompts, edits
/// or photos).
fn mergeable(row: &OutboxRow) -> bool {
    row.category != Category::Reply
        && match &row.body {
            // A notice with a button (a signal's Enter) keeps its own message.
            OutboxBody::Notice(n) => super::signal_button::buttons(n, Lang::En).is_empty(),
            OutboxBody::Text { .. } => true,
            _ => false,
        }
}

fn html_of(row: &OutboxRow, lang: Lang) -> String {
    match &row.body {
        OutboxBody::Notice(n) => render(n, lang, Mode::Html),
        OutboxBody::Text { html } | OutboxBody::Prompt { html, .. } | OutboxBody::Edit { html, .. } => html.clone(),
        OutboxBody::Photo { caption, .. } => caption.clone(),
    }
}

fn chat_lang(store: &Store, chat: i64) -> Lang {
    match store.chat_settings(chat) {
        Ok(s) => s.language.as_deref().map_or(Lang::En, Lang::from_code),
        Err(e) => {
            tracing::warn!(chat, error = %e, "unreadable chat settings; rendering in English");
            Lang::En
        }
    }
}

/// The reply thread of `position` in `chat`, if one was recorded.
fn thread_of(store: &Store, position: PositionId, chat: i64) -> Result<Option<i32>, StoreError> {
    Ok(store.position(position)?.and_then(|p| p.thread.iter().find(|(c, _)| *c == chat).map(|(_, id)| *id)))
}

fn first_part(text: &str, limit: usize) -> String {
    split_message(text, limit).into_iter().next().unwrap_or_default()
}

fn build(sh: &Shared, chat: i64, candidates: Vec<(u64, OutboxRow)>, backlog: usize) -> Result<Built, StoreError> {
    let Some((seq, head)) = candidates.first().cloned() else {
        return Ok(Built::Drop { seqs: Vec::new(), why: "no rows" });
    };
    let store = &sh.store;
    // Only notices are rendered here; skip the settings read otherwise.
    let lang = if candidates.iter().any(|(_, r)| matches!(r.body, OutboxBody::Notice(_))) {
        chat_lang(store, chat)
    } else {
        Lang::En
    };
    let mut job = Job {
        rows: vec![(seq, head.clone())],
        payload: Payload::Text(Vec::new()),
        next: 0,
        plain: false,
        reply_to: None,
        buttons: Vec::new(),
        token: None,
        new_threads: Vec::new(),
        first_id: None,
        signal: None,
        buttons_id: None,
        rejections: 0,
    };
    match &head.body {
        OutboxBody::Photo { png, caption } => {
            job.payload = Payload::Photo { png: png.clone(), caption: first_part(caption, CAPTION_LIMIT) };
        }
        OutboxBody::Edit { message_id, token, html, buttons } => {
            let target = message_id.filter(|id| *id > 0).or_else(|| {
                token.as_deref().and_then(|t| sh.prompts.get(t)).filter(|(c, _)| *c == chat).map(|(_, id)| id)
            });
            let Some(message_id) = target else {
                return Ok(Built::Drop {
                    seqs: vec![seq],
                    why: "the message to edit is unknown (sent before a restart?)",
                });
            };
            job.payload = Payload::Edit { message_id, html: first_part(html, TELEGRAM_LIMIT) };
            job.buttons = buttons.clone();
        }
        OutboxBody::Prompt { html, buttons, token } => {
            job.payload = Payload::Text(split_message(html, TELEGRAM_LIMIT));
            job.buttons = buttons.clone();
            job.token = token.clone();
        }
        OutboxBody::Notice(_) | OutboxBody::Text { .. } => {
            let mut texts = vec![html_of(&head, lang)];
            let merge = sh.config.coalesce_at > 0 && backlog >= sh.config.coalesce_at && mergeable(&head);
            if merge {
                for (s, row) in candidates.iter().skip(1) {
                    if !mergeable(row) {
                        break;
                    }
                    texts.push(html_of(row, lang));
                    job.rows.push((*s, row.clone()));
                }
                let n = fits(&texts, TELEGRAM_LIMIT);
                texts.truncate(n);
                job.rows.truncate(n);
                if n > 1 {
                    sh.stats.rows_coalesced.fetch_add(n as u64 - 1, Ordering::Relaxed);
                }
            }
            job.payload = Payload::Text(split_message(&texts.join(SEPARATOR), TELEGRAM_LIMIT));
            if let OutboxBody::Notice(n) = &head.body {
                job.buttons = super::signal_button::buttons(n, lang);
                // A notice with a button is never merged: its text is the message's.
                if let Some(press) = super::signal_button::press_of(n).filter(|_| !job.buttons.is_empty()) {
                    job.signal = Some((press, texts.join(SEPARATOR), lang));
                }
            }
        }
    }
    if let Payload::Text(parts) = &job.payload
        && parts.is_empty()
    {
        return Ok(Built::Drop { seqs: job.seqs(), why: "empty message" });
    }
    // Reply threading: only when every row is about the same position.
    if !matches!(job.payload, Payload::Edit { .. }) {
        let mut positions: Vec<PositionId> = job.rows.iter().filter_map(|(_, r)| r.position).collect();
        positions.sort_unstable_by_key(|p| p.0);
        positions.dedup();
        let all_same = positions.len() == 1 && job.rows.iter().all(|(_, r)| r.position.is_some());
        for p in positions {
            match thread_of(store, p, chat)? {
                Some(id) if all_same => job.reply_to = Some(id),
                Some(_) => {}
                None => job.new_threads.push(p),
            }
        }
    }
    Ok(Built::Job(Box::new(job)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let c = OutboxConfig {
            backoff_base: Duration::from_millis(100),
            backoff_cap: Duration::from_secs(1),
            ..OutboxConfig::default()
        };
        let seq: Vec<u128> = (1..7).map(|n| c.backoff(n).as_millis()).collect();
        assert_eq!(seq, vec![100, 200, 400, 800, 1000, 1000]);
        assert_eq!(c.backoff(u32::MAX), Duration::from_secs(1));
    }

    fn row(chat: i64) -> OutboxRow {
        OutboxRow {
            chat,
            category: Category::Fills,
            position: None,
            body: OutboxBody::Text { html: "x".into() },
            created_at: crate::domain::Timestamp(0),
            attempts: 0,
        }
    }

    #[test]
    fn mirror_tracks_chats_and_readdressed_rows() {
        let mut m = Mirror::default();
        m.insert(3, row(1));
        m.insert(1, row(2));
        m.insert(2, row(1));
        assert_eq!(m.heads(), vec![(1, 2), (2, 1)]);
        assert_eq!(m.chat_rows(1, 10).iter().map(|(s, _)| *s).collect::<Vec<_>>(), vec![2, 3]);
        // A migrated row moves to its new chat.
        m.insert(2, row(9));
        assert_eq!(m.chat_len(1), 1);
        assert_eq!(m.chat_len(9), 1);
        m.remove(1);
        m.remove(1);
        assert_eq!(m.heads(), vec![(2, 9), (3, 1)]);
        assert_eq!(m.last_seq, 3);
    }

    #[test]
    fn mergeable_rows() {
        assert!(mergeable(&row(1)));
        assert!(!mergeable(&OutboxRow { category: Category::Reply, ..row(1) }));
        let photo = OutboxBody::Photo { png: vec![1], caption: String::new() };
        assert!(!mergeable(&OutboxRow { body: photo, ..row(1) }));
    }
}
