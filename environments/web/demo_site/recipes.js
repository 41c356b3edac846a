// Little Kitchen: the demo site's recipes and the helpers its three pages share (no network, no framework).
const RECIPES = [
  {id: 'mapo-tofu', title: 'Mapo Tofu', cuisine: 'chinese', vegetarian: true, minutes: 25, serves: 4, rating: 4.7,
   ingredients: ['400 g silken tofu', '2 tbsp doubanjiang', '1 tsp Sichuan peppercorns', '2 spring onions',
                 '1 tbsp soy sauce', '1 tsp cornstarch'],
   steps: ['Cut the tofu into cubes and blanch them in salted water.', 'Fry the doubanjiang in oil until red.',
           'Add water, soy sauce and the tofu; simmer 5 minutes.', 'Thicken with cornstarch, top with peppercorns and spring onions.']},
  {id: 'kung-pao-chicken', title: 'Kung Pao Chicken', cuisine: 'chinese', vegetarian: false, minutes: 30, serves: 3, rating: 4.5,
   ingredients: ['500 g chicken thigh', '60 g peanuts', '8 dried chillies', '2 tbsp soy sauce', '1 tbsp black vinegar'],
   steps: ['Marinate the chicken.', 'Fry chillies and peppercorns.', 'Stir-fry the chicken, add sauce and peanuts.']},
  {id: 'tofu-scramble', title: 'Tofu Scramble', cuisine: 'american', vegetarian: true, minutes: 15, serves: 2, rating: 4.1,
   ingredients: ['300 g firm tofu', '1 tsp turmeric', '1 bell pepper', 'salt and pepper'],
   steps: ['Crumble the tofu.', 'Fry the pepper, add tofu and turmeric, season.']},
  {id: 'margherita', title: 'Pizza Margherita', cuisine: 'italian', vegetarian: true, minutes: 90, serves: 4, rating: 4.8,
   ingredients: ['500 g flour', '325 ml water', '7 g yeast', '400 g tomatoes', '250 g mozzarella', 'basil'],
   steps: ['Make the dough and let it rise 1 hour.', 'Stretch, top and bake at the highest heat.']},
  {id: 'miso-soup', title: 'Miso Soup', cuisine: 'japanese', vegetarian: true, minutes: 10, serves: 2, rating: 4.3,
   ingredients: ['3 tbsp white miso', '150 g tofu', '1 sheet nori', '2 spring onions'],
   steps: ['Warm the dashi.', 'Whisk in the miso, add tofu, nori and spring onions.']},
  {id: 'carbonara', title: 'Spaghetti Carbonara', cuisine: 'italian', vegetarian: false, minutes: 20, serves: 2, rating: 4.6,
   ingredients: ['200 g spaghetti', '100 g guanciale', '2 eggs', '50 g pecorino'],
   steps: ['Cook the pasta.', 'Crisp the guanciale.', 'Toss pasta with guanciale, eggs and cheese off the heat.']},
];

const CUISINES = {chinese: 'Chinese', italian: 'Italian', japanese: 'Japanese', american: 'American'};

function param(name) {
  return new URLSearchParams(location.search).get(name) || '';
}

function searchRecipes(query, cuisine) {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  return RECIPES.filter((r) => (!cuisine || r.cuisine === cuisine) &&
    words.every((w) => (r.title + ' ' + r.ingredients.join(' ')).toLowerCase().includes(w)));
}

function element(tag, text, attrs) {
  const el = document.createElement(tag);
  if (text) el.textContent = text;
  for (const [key, value] of Object.entries(attrs || {})) el.setAttribute(key, value);
  return el;
}
