"""Readable but unguessable session ids: ``adjective-animal-adjective-animal-NNNN``,
e.g. ``golden-eagle-misty-otter-4271``: four words and a number to say aloud or type from a
poster, drawn with :mod:`secrets`.

64^4 word pairs x 9,000 numbers is 1.5 x 10^11 ids (37 bits). With 1,000 live sessions, a
source locked out after 30 failed joins per 10 minutes (``sessions.JOIN_FAILURES_*``) needs
about 2.5 million years to find one; a thousand sources, 2,500 years. (The old
``adjective-animal-NNN`` had 3.7 million ids: scanned in minutes at the stage's rate limit.)
A collision is caught by the conditional write and another id is drawn.
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
    words = [secrets.choice(ADJECTIVES), secrets.choice(ANIMALS), secrets.choice(ADJECTIVES), secrets.choice(ANIMALS)]
    return f"{'-'.join(words)}-{secrets.randbelow(9000) + 1000}"
