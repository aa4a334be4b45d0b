"""Story IDs that survive every release.

The previous release's registry (corpus/REGISTRY.json) is an input of the next build. Rules:
- a cluster holding captures that already had a story keeps that story's ID;
- a story whose captures now lie in several clusters (a split) keeps its ID on the cluster holding
  most of them (ties: a cluster no other story keeps its ID on, then the one with the smallest
  capture ID; older stories choose first); the others get new IDs;
- a cluster that inherits several IDs (a merge) keeps the oldest (lowest generation, then most
  captures, then smallest ID); the others become its aliases, marked merged_into;
- each capture remembers its own story, also after a merge: when the merge comes apart (the capture
  that bridged it is taken down), the part that holds a merged story's captures gets that ID back,
  in the split its captures were published in (the survivor's);
- a new ID is derived from the cluster's smallest capture ID, so first builds need no counter;
- a story keeps the split it was first given; a merged story takes the split of the surviving ID;
- a story whose captures all left raw/ is retired (its ID is never given to anything else); the
  registry remembers the captures that left, so a capture that comes back returns to its story.
Nothing is renumbered; the build prints each event (new, split, merged, unmerged, retired,
returned) and `newsvariants diff` reports every change.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsvariants.errors import NewsVariantsError, parse_json
from newsvariants.schema import record_errors
from newsvariants.split import SPLIT_SALT, hashed_split

REGISTRY_FILE = "REGISTRY.json"


@dataclass
class StoryEntry:
    split: str
    generation: int
    aliases: list[str] = field(default_factory=list)
    status: str = "active"
    merged_into: str | None = None


# What can happen to a story in a build, in the order `newsvariants build` counts them.
STORY_EVENT_KINDS = ("new", "split", "merged", "unmerged", "retired", "returned")


@dataclass
class StoryEvent:
    kind: str  # one of STORY_EVENT_KINDS
    story_id: str
    detail: str


@dataclass
class StoryRegistry:
    split_salt: str = SPLIT_SALT
    generation: int = 0
    stories: dict[str, StoryEntry] = field(default_factory=dict)
    captures: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path | None) -> StoryRegistry:
        if path is None or not path.exists():
            return cls()
        try:
            data = parse_json(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise NewsVariantsError(f"{path}: {exc}") from exc
        problems = record_errors("registry", data)
        if problems:
            raise NewsVariantsError(f"{path}: invalid registry: {'; '.join(problems)}")
        return cls(
            split_salt=data["split_salt"],
            generation=data["generation"],
            stories={k: StoryEntry(**v) for k, v in data["stories"].items()},
            captures=dict(data["captures"]),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "split_salt": self.split_salt,
            "generation": self.generation,
            "stories": {
                k: {
                    "split": v.split,
                    "generation": v.generation,
                    "aliases": sorted(v.aliases),
                    "status": v.status,
                    "merged_into": v.merged_into,
                }
                for k, v in sorted(self.stories.items())
            },
            "captures": dict(sorted(self.captures.items())),
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=1, ensure_ascii=False) + "\n"

    def resolve(self, story_id: str) -> str:
        """Follow merged_into links to the story's surviving ID."""
        seen = set()
        while self.stories[story_id].merged_into and story_id not in seen:
            seen.add(story_id)
            story_id = self.stories[story_id].merged_into  # type: ignore[assignment]
        return story_id

    def split_of(self, story_id: str) -> str:
        return self.stories[story_id].split

    def _new_id(self, seed_capture: str) -> str:
        n = 0
        while True:
            salt = "" if n == 0 else f":{n}"
            sid = "s-" + hashlib.sha256(f"story:{seed_capture}{salt}".encode()).hexdigest()[:12]
            if sid not in self.stories:
                return sid
            n += 1

    def assign(self, clusters: Sequence[Sequence[str]]) -> tuple[list[str], list[StoryEvent]]:
        """Story ID for each cluster of capture IDs; updates the registry; returns the events."""
        home = {c: s for c, s in self.captures.items() if s in self.stories}
        previous = {c: self.resolve(s) for c, s in home.items()}
        # Heirs are chosen among the captures' own stories, merged ones included, so that when the
        # capture that bridged a merge leaves, the part that split off gets its old ID back
        # instead of a third, new one.
        heir = self._heirs(clusters, home)
        # inverted once: asking every cluster which stories it inherits would be quadratic
        inherited_by: dict[int, list[str]] = {}
        for sid, idx in heir.items():
            inherited_by.setdefault(idx, []).append(sid)
        generation = self.generation + 1
        created = False
        ids: list[str] = []
        events: list[StoryEvent] = []
        for index, cluster in enumerate(clusters):
            inherited = sorted(inherited_by.get(index, ()))
            if inherited:
                sid = self._keeper(inherited, cluster, home)
                if self.stories[sid].status == "merged":
                    events.append(self._unmerge(sid))
            else:
                sid = self._new_id(min(cluster))
                former = sorted({previous[c] for c in cluster if c in previous})
                split = hashed_split(sid, self.split_salt)
                if former:  # split off an existing story: stay in that story's split (no leak)
                    split = self.stories[former[0]].split
                    events.append(StoryEvent("split", sid, f"split off {', '.join(former)}"))
                else:
                    events.append(StoryEvent("new", sid, f"{len(cluster)} capture(s)"))
                self.stories[sid] = StoryEntry(split=split, generation=generation)
                created = True
            ids.append(sid)
        # merges after every restored ID is active again, so that a merge chain is never cut
        for index, sid in enumerate(ids):
            for other in sorted(inherited_by.get(index, ())):
                if other != sid and self.resolve(other) != sid:
                    if self.stories[other].status == "merged":
                        self._unmerge(other)  # folded into a story elsewhere: moves here
                    self._merge(other, sid)
                    events.append(StoryEvent("merged", sid, f"absorbed {other}"))
        events.extend(self._update_status(ids))
        self.captures = self._capture_homes(ids, clusters, home)
        if created:
            self.generation = generation
        return ids, events

    def _keeper(self, inherited: list[str], cluster: Sequence[str], home: dict[str, str]) -> str:
        """The ID a cluster keeps of the stories it inherits: a story that is not merged (so a
        standing merge keeps its survivor), then the oldest, then the one with most captures."""
        standing = [s for s in inherited if self.stories[s].status != "merged"]
        if standing:  # a standing story counts the captures of the stories merged into it
            size = Counter(self.resolve(home[c]) for c in cluster if c in home)
        else:
            size = Counter(home[c] for c in cluster if c in home)
        return min(standing or inherited, key=lambda s: (self.stories[s].generation, -size[s], s))

    def _update_status(self, ids: list[str]) -> list[StoryEvent]:
        events = []
        survivors = set(ids)
        for sid, entry in self.stories.items():
            if entry.status == "active" and sid not in survivors:
                entry.status = "retired"
                events.append(StoryEvent("retired", sid, "no captures left"))
        for sid in sorted(survivors):
            if self.stories[sid].status == "retired":
                events.append(StoryEvent("returned", sid, "captures are back in raw/"))
            self.stories[sid].status = "active"
        return events

    def _capture_homes(
        self, ids: list[str], clusters: Sequence[Sequence[str]], home: dict[str, str]
    ) -> dict[str, str]:
        """capture -> its own story: the story it had, even if merged, while that story still
        leads to the capture's cluster, else the cluster's story. A capture taken out of raw/ (a
        takedown) is remembered: if it returns, so does its story."""
        current = {}
        for sid, cluster in zip(ids, clusters, strict=True):
            for capture in cluster:
                own = home.get(capture)
                current[capture] = own if own is not None and self.resolve(own) == sid else sid
        absent = {c: sid for c, sid in self.captures.items() if c not in current}
        return {**absent, **current}

    def _heirs(self, clusters: Sequence[Sequence[str]], home: dict[str, str]) -> dict[str, int]:
        """For each story of a known capture: the index of the cluster that inherits its ID."""
        counts: dict[str, Counter[int]] = {}
        for index, cluster in enumerate(clusters):
            for capture in cluster:
                if capture in home:
                    counts.setdefault(home[capture], Counter())[index] += 1
        # A story whose captures are spread evenly (a tie) takes, of its tied clusters, one no
        # other story keeps its ID on: two stories regrouped across two clusters ({a1, a2},
        # {b1, b2} -> {a1, b1}, {a2, b2}) each kept the first cluster, so one was merged into
        # the other and the second cluster got a new ID for no change in the number of stories.
        best = {sid: self._largest(per_cluster, clusters) for sid, per_cluster in counts.items()}
        heirs = {sid: tied[0] for sid, tied in best.items() if len(tied) == 1}
        taken = set(heirs.values())
        for sid in sorted((s for s, tied in best.items() if len(tied) > 1), key=self._age):
            heirs[sid] = next((i for i in best[sid] if i not in taken), best[sid][0])
            taken.add(heirs[sid])
        return heirs

    @staticmethod
    def _largest(per_cluster: Counter[int], clusters: Sequence[Sequence[str]]) -> list[int]:
        """The clusters holding most of a story's captures, by their smallest capture ID."""
        most = max(per_cluster.values())
        tied = [i for i, n in per_cluster.items() if n == most]
        return sorted(tied, key=lambda i: min(clusters[i]))

    def _age(self, story_id: str) -> tuple[int, str]:
        return (self.stories[story_id].generation, story_id)

    def _merge(self, other: str, into: str) -> None:
        entry = self.stories[other]
        entry.status, entry.merged_into = "merged", into
        target = self.stories[into]
        target.aliases = sorted({*target.aliases, other, *entry.aliases})

    def _unmerge(self, story_id: str) -> StoryEvent:
        """Make a merged story active again. It takes the split its captures had in the story it
        was folded into: they were published there, so going back would leak them."""
        entry = self.stories[story_id]
        survivor = self.resolve(story_id)
        gone = {story_id, *entry.aliases}
        for sid in self._chain(story_id):  # each took the story and its aliases when it merged
            self.stories[sid].aliases = [a for a in self.stories[sid].aliases if a not in gone]
        entry.status, entry.merged_into = "active", None
        entry.split = self.stories[survivor].split
        return StoryEvent("unmerged", story_id, f"split off {survivor} again (merge undone)")

    def _chain(self, story_id: str) -> list[str]:
        """The stories a story's merged_into links lead to, nearest first."""
        chain: list[str] = []
        while (into := self.stories[story_id].merged_into) and into not in chain:
            chain.append(into)
            story_id = into
        return chain
