"""Union-find over row indices: near-duplicate pairs become transitive clusters.

A dict, not an array: only rows that appear in a similar pair take memory.
"""

from __future__ import annotations

from collections import defaultdict


class UnionFind:
    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, item: int) -> int:
        root = item
        while self.parent.get(root, root) != root:
            root = self.parent[root]
        while item != root:  # path compression
            self.parent[item], item = root, self.parent.get(item, item)
        return root

    def union(self, a: int, b: int) -> None:
        root_a, root_b = self.find(a), self.find(b)
        if root_a != root_b:
            # The smaller root wins: clusters come out the same whatever order pairs arrive in.
            self.parent[max(root_a, root_b)] = min(root_a, root_b)

    def clusters(self) -> list[list[int]]:
        """Every cluster of two or more items, members sorted, clusters sorted by their first member."""
        groups: dict[int, list[int]] = defaultdict(list)
        for item in self.parent:
            groups[self.find(item)].append(item)
        for root, members in groups.items():
            if root not in self.parent:
                members.append(root)
        return sorted((sorted(members) for members in groups.values()), key=lambda members: members[0])
