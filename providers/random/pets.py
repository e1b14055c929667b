"""Words for random_pet: an adverb, adjectives and an animal, read as a friendly name."""

from __future__ import annotations

import secrets

ADVERBS = (
    "amply badly boldly brightly briskly calmly cheaply clearly closely deeply early easily evenly "
    "fairly finely firmly freely fully gently gladly greatly happily hardly highly humbly jointly "
    "kindly largely lately lightly loosely loudly luckily merely mildly neatly nicely openly partly "
    "plainly politely poorly promptly proudly purely quickly quietly rarely readily really roughly "
    "safely sharply shortly simply slowly smoothly softly solely strongly surely swiftly tightly "
    "truly vastly warmly widely wisely"
).split()
ADJECTIVES = (
    "able active amazing amber ample apt awake bold brave bright brisk busy calm careful clever cool "
    "cosmic crisp curious daring dear deep eager easy epic even exact fair famous fast fine firm "
    "fit fleet fluent fond free fresh funny gentle glad golden good grand great happy hardy helpful "
    "honest humble ideal jolly just keen kind large lively loyal lucky merry mighty modest moral "
    "neat nice noble novel open patient plain polite precise prime proud quick quiet rapid rare "
    "ready regal relaxed rich robust sacred safe sharp shiny simple smart smooth social solid sound "
    "special stable steady strong sunny super sure sweet swift tidy tender topical true trusty "
    "united upbeat usable valid vast vital warm wealthy welcome whole wise witty worthy young"
).split()
ANIMALS = (
    "akita albatross alpaca ant antelope ape badger bat bear beaver bee beetle bison boar bobcat "
    "buffalo bull camel cat cattle chamois cheetah chicken chimp clam cobra cod condor cougar cow "
    "coyote crab crane crow deer dingo dodo dog dolphin donkey dove dragon duck eagle eel egret elk "
    "emu falcon ferret finch fish flamingo fox frog gazelle gecko gibbon giraffe gnu goat goose "
    "gopher gorilla grouse gull hamster hare hawk hedgehog heron hippo horse hound husky ibex ibis "
    "iguana impala jackal jaguar jay kangaroo kid kingfisher kite kiwi koala lark lemur leopard "
    "lion lizard llama lobster lynx macaw magpie mako mallard mammoth mantis marlin marmot marten "
    "meerkat mink mole monkey moose moth mouse mule newt ocelot octopus orca osprey ostrich otter "
    "owl ox panda panther parrot pelican penguin pheasant pig pigeon pony poodle possum puffin puma "
    "quail rabbit raccoon ram raven reindeer rhino robin salmon seal shark sheep shrew skunk sloth "
    "snail snake sparrow squid stag stork swan tapir tern tiger toad tortoise toucan trout tuna "
    "turkey turtle viper vulture walrus wasp weasel whale wolf wombat wren yak zebra"
).split()


def pet_name(length: int, separator: str, prefix: str | None) -> str:
    rng = secrets.SystemRandom()
    words: list[str] = []
    if length >= 3:
        words.append(rng.choice(ADVERBS))
    words.extend(rng.choice(ADJECTIVES) for _ in range(max(0, min(length, 2) - 1) + max(0, length - 3)))
    words.append(rng.choice(ANIMALS))
    if prefix:
        words.insert(0, prefix)
    return separator.join(words)
