"""Duplicate and near-duplicate questions, compared by their stem and their key, accents and case ignored.

A question's words are its text folded (marks stripped, đ→d, lower case) with punctuation dropped.
Two questions are duplicates when the words of the stem and of the key options are the same; near
duplicates when the Jaccard similarity of their shingles is at least NEAR_DUPLICATE. The shingles are
the word 2- and 3-grams of the stem and, apart, of the key (a part of one word is its own shingle).

Each later question is reported once, with the first earlier question found like it. Pairs are found
without comparing all of them: each question's shingles are ordered rarest first, and two questions
can reach the threshold only if they share one of their first |x| - ⌈t·|x|⌉ + 1 (prefix filtering);
only those candidates are compared. A shingle shared by many earlier questions says little about any
one of them, so only the MAX_POSTINGS latest of them are taken as candidates through it: this bounds
the time on banks generated from one pattern, where nearly every question resembles every other.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Sequence

from contest.banks.common import ParsedQuestion, fold

NEAR_DUPLICATE = 0.7
MAX_POSTINGS = 32
_NOT_WORD = re.compile(r"[^\w]+|_")


def words(text: str) -> list[str]:
    """The text's words, accents, case and punctuation dropped ("Nghị định 61/2018" -> nghi dinh 61 2018)."""
    return _NOT_WORD.sub(" ", fold(text)).split()


def _shingles(tag: str, part: list[str]) -> set[str]:
    if len(part) < 2:
        return {f"{tag}{w}" for w in part}
    grams = {f"{tag}{a} {b}" for a, b in zip(part, part[1:])}
    grams |= {f"{tag}{a} {b} {c}" for a, b, c in zip(part, part[1:], part[2:])}
    return grams


def key_text(question: ParsedQuestion) -> str:
    return " | ".join(sorted(question.options[i] for i in question.correct if i < len(question.options)))


@dataclass(frozen=True)
class Match:
    earlier: int      # index of the first question of the pair
    later: int
    similarity: float  # 1.0 for a duplicate
    same_key: bool


def find_duplicates(questions: Sequence[ParsedQuestion], threshold: float = NEAR_DUPLICATE) -> list[Match]:
    """Each later question that duplicates or nearly duplicates an earlier one, with the earlier one."""
    stems = [words(q.text) for q in questions]
    keys = [words(key_text(q)) for q in questions]
    matches: list[Match] = []
    first_of: dict[tuple[str, str], int] = {}
    distinct: list[int] = []
    for i, (stem, key) in enumerate(zip(stems, keys)):
        signature = (" ".join(stem), " ".join(key))
        if not signature[0]:
            continue
        if signature in first_of:
            matches.append(Match(first_of[signature], i, 1.0, True))
        else:
            first_of[signature] = i
            distinct.append(i)
    sets = {i: frozenset(_shingles("s:", stems[i]) | _shingles("k:", keys[i])) for i in distinct}
    for earlier, later, similarity in _most_similar_earlier(sets, threshold):
        matches.append(Match(earlier, later, similarity, keys[earlier] == keys[later]))
    return sorted(matches, key=lambda m: (m.later, m.earlier))


def _most_similar_earlier(sets: dict[int, frozenset[str]], threshold: float) -> list[tuple[int, int, float]]:
    """(earlier, later, similarity) for each question with an earlier one at or above the threshold."""
    frequency = Counter(token for tokens in sets.values() for token in tokens)
    index: dict[str, list[int]] = defaultdict(list)
    found = []
    for i in sorted(sets):
        tokens = sets[i]
        size = len(tokens)
        prefix = sorted(tokens, key=lambda t: (frequency[t], t))[:size - math.ceil(threshold * size - 1e-9) + 1]
        candidates = set()
        for token in prefix:
            candidates.update(index[token][-MAX_POSTINGS:])
        for j in sorted(candidates):
            other = sets[j]
            if not threshold * size - 1e-9 <= len(other) <= size / threshold + 1e-9:
                continue
            shared = len(tokens & other)
            similarity = shared / (size + len(other) - shared)
            if similarity >= threshold:
                found.append((j, i, similarity))
                break
        for token in prefix:
            index[token].append(i)
    return found
