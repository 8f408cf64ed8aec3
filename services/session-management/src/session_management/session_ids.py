"""Human-readable session ids: ``adjective-animal-NNN``, e.g. ``golden-eagle-427``.

64 adjectives x 64 animals x 900 numbers gives 3.7 million ids; a collision is caught
by the conditional write and another id is drawn.
"""

from __future__ import annotations

import secrets

ADJECTIVES = (
    "amber azure bold brave bright calm clever cosmic crimson crystal curious daring dawn eager "
    "early electric emerald fancy fearless fierce gentle gilded golden grand happy hidden humble "
    "ivory jolly keen kind lively lucky lunar magic mellow merry mighty misty noble ocean patient "
    "proud quick quiet rapid royal rustic scarlet secret silent silver smooth solar spring steady "
    "stellar sunny swift tidy velvet vivid wise witty"
).split()

ANIMALS = (
    "badger bear beaver bison crane dolphin eagle falcon ferret finch fox gazelle gecko heron "
    "ibis jaguar koala lark lemur leopard lion llama lynx magpie marten mink moose narwhal newt "
    "ocelot orca osprey otter owl panda panther parrot pelican penguin puffin quail rabbit raven "
    "robin salmon seal shark sparrow stork swan tiger toucan turtle walrus whale wolf wombat "
    "wren yak zebra bobcat hawk hare mole"
).split()


def new_session_id() -> str:
    return f"{secrets.choice(ADJECTIVES)}-{secrets.choice(ANIMALS)}-{secrets.randbelow(900) + 100}"
